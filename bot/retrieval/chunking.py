"""Split articles into passages: windows of whole sentences, short enough to quote in chat."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.models import Article, Passage

# A sentence ends at . ! ? or … (optionally closed by a quote or bracket) followed by
# space and a capital, digit, quote or bracket. Initials like "A.S. hingga" don't split.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9À-Ý])")
_WORDS = re.compile(r"\w+")
MIN_WORDS = 6


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def _is_heading(paragraph: str) -> bool:
    """A sub-heading: one short line without closing punctuation."""
    return (
        paragraph[:1].isalpha()
        and "\n" not in paragraph
        and len(_WORDS.findall(paragraph)) <= 14
        and not paragraph.rstrip().endswith((".", "!", "?", "…", '"', "”"))
    )


def split_sentences(text: str, offset: int = 0) -> list[Span]:
    spans, pos = [], 0
    for m in _BOUNDARY.finditer(text):
        end = m.start() + len(m.group(0).rstrip())
        if text[pos:end].strip():
            spans.append(Span(offset + pos, offset + end))
        pos = m.end()
    if text[pos:].strip():
        spans.append(Span(offset + pos, offset + len(text.rstrip())))
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
            if sections[-1] and len(_WORDS.findall(article.text[span.start : span.end])) < MIN_WORDS:
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
