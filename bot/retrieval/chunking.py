"""Split articles into passages: windows of whole sentences, short enough to quote in chat.

Sentences come from sentencex (Wikimedia's segmenter for ~300 languages, a small Rust
extension: no model, no download). Compared with pysbd and blingfire on test text in
English, Indonesian, Chinese and Hindi, it alone kept "Dr. Liisa" and "A.S. hingga"
together while still splitting before "iPhone" and "eBay" and after 。 and । in a
single mode; it splits about 2 µs a sentence, where pysbd takes about 1 ms and embedding
one passage about 150 ms, so splitting is never what indexing waits for.

Language: articles carry no language yet, so every article is split in sentencex's
English mode. The sentence terminators are the same in every mode (all of Unicode's:
。 । ؟ ። ។ split whatever the language); the mode picks only the abbreviation list, and
the English one (Dr., Prof., Mr., Inc., vs., U.S.) also covers those of Indonesian news.
Greek's question mark ";" is the one terminator that needs its own mode, `lang="el"`:
`split_sentences` takes a language code for when articles carry one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sentencex

from bot.core.models import Article, Passage

DEFAULT_LANG = "en"
# Each Han or kana character counts as a word: those scripts put no spaces between words.
_HAN_KANA = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORDS = re.compile(rf"[{_HAN_KANA}]|[^\W{_HAN_KANA}]+")
MIN_WORDS = 6


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def count_words(text: str) -> int:
    """Words of any script; each Han or kana character counts as one."""
    return len(_WORDS.findall(text))


def _is_heading(paragraph: str) -> bool:
    """A sub-heading: one short line without closing punctuation."""
    return (
        paragraph[:1].isalpha()
        and "\n" not in paragraph
        and count_words(paragraph) <= 14
        and not paragraph.rstrip().endswith((".", "!", "?", "…", '"', "”", "。", "！", "？", "।"))
    )


def split_sentences(text: str, offset: int = 0, lang: str = DEFAULT_LANG) -> list[Span]:
    """The sentences of `text`, without the whitespace around them, as spans shifted by `offset`."""
    try:
        pieces = sentencex.segment(lang, text)
    except UnicodeEncodeError:  # lone surrogates: no file decodes to them, but a str may hold them
        pieces = [text]
    spans, pos = [], 0
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        # the pieces tile the text in order, so the next one starts at `pos` or after whitespace
        start = text.index(piece, pos)
        pos = start + len(piece)
        spans.append(Span(offset + start, offset + pos))
    return spans


def sentence_spans(article: Article) -> list[list[Span]]:
    """Sentences grouped into sections; a sub-heading starts a new section and is not quoted."""
    sections: list[list[Span]] = [[]]
    pos = 0
    for paragraph in article.text.split("\n\n"):
        start = article.text.index(paragraph, pos)
        pos = start + len(paragraph)
        if _is_heading(paragraph):
            if sections[-1]:
                sections.append([])
            continue
        for span in split_sentences(paragraph, start):
            if sections[-1] and count_words(article.text[span.start : span.end]) < MIN_WORDS:
                # a fragment (an attribution, a date line) means little alone: join it to what it follows
                sections[-1][-1] = Span(sections[-1][-1].start, span.end)
            else:
                sections[-1].append(span)
    return [s for s in sections if s]


def chunk(article: Article, max_chars: int = 500, overlap: int = 1) -> list[tuple[Passage, list[Span]]]:
    """Passages of consecutive sentences up to `max_chars`, sharing `overlap` sentences.

    A sentence longer than `max_chars` becomes a passage of its own rather than being cut.
    Returns each passage with its sentences (offsets into the article text).
    """
    out: list[tuple[Passage, list[Span]]] = []
    for sentences in sentence_spans(article):
        i = 0
        while i < len(sentences):
            j = i + 1
            while j < len(sentences) and sentences[j].end - sentences[i].start <= max_chars:
                j += 1
            window = sentences[i:j]
            start, end = window[0].start, window[-1].end
            out.append((Passage(article.source, article.title, article.text[start:end], start, end), window))
            if j >= len(sentences):
                break
            # share `overlap` sentences with the next window, unless that leaves it no room
            k = max(i + 1, j - overlap)
            i = k if sentences[j].end - sentences[k].start <= max_chars else j
    return out
