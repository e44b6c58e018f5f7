"""Tokenizing for the BM25 index: lower-cased words, without English and Indonesian function words."""

from __future__ import annotations

import re

import bm25s
from bm25s.stopwords import STOPWORDS_EN_PLUS

# Common Indonesian function words; BM25's idf alone lets them add noise to short questions.
STOPWORDS_ID = frozenset(
    """
ada adalah agar akan aku anda antara apa apakah atas atau bagaimana bagi bahwa banyak
baru beberapa begitu belum berapa bisa boleh bukan cara dalam dan dari dapat dengan
di dia ia ini itu jadi jika juga kami kamu kapan karena kata ke kepada kini lagi lain
lebih maka mana masih mereka meski milik mungkin namun oleh pada para per saat saja
sama sampai sangat satu saya se sebagai sebelum secara sedang sehingga sejak semua
seperti serta setelah siapa suatu sudah supaya tahun tak tanpa telah tentang terhadap
tersebut tetapi tidak untuk waktu yaitu yakni yang
""".split()
)
STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | STOPWORDS_ID  # NLTK's English list: question words too
_TOKEN = re.compile(r"(?u)\b\w[\w.,-]*\w\b|\b\w\b")
# An acronym's plural, told by its case: GPUs, LLMs, APIs (but not "bus" or "Status").
_ACRONYM_PLURAL = re.compile(r"[A-Z][A-Z0-9]+s")


def _singular(tok: str) -> str:
    """English plurals match their singular (chips ~ chip), not words that merely end in
    s (bus, class, analysis); a word folded this way is folded alike in questions and
    passages, so an Indonesian word ending in s (kelas) still matches itself."""
    return tok[:-1] if len(tok) > 3 and tok.endswith("s") and not tok.endswith(("ss", "us", "is")) else tok


def tokens(text: str) -> list[str]:
    """Words, keeping numbers like 1,3 or 24-40 whole; stopwords and single letters dropped."""
    out = []
    for tok in _TOKEN.findall(text):
        tok = tok.strip(".,-")
        if _ACRONYM_PLURAL.fullmatch(tok):
            tok = tok[:-1]  # lower-cased, "GPUs" would end in "us" and keep its s
        tok = tok.lower()
        if len(tok) > 1 and tok not in STOPWORDS:
            out.append(_singular(tok))
    return out


def build_bm25(texts: list[str]) -> bm25s.BM25:
    bm25 = bm25s.BM25()
    corpus = [tokens(t) or ["\u2205"] for t in texts]  # bm25s needs a token in every document
    bm25.index(bm25s.tokenization.Tokenized(*_ids(corpus)), show_progress=False)
    return bm25


def _ids(corpus: list[list[str]]):
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in corpus]
    return ids, vocab


def scores(bm25: bm25s.BM25, question: str, docs=None):
    """BM25 score of every passage for the question, or of the passages `docs` only, in
    their order (zeros when no word is known).

    With `docs`, only those passages are scored: `get_scores` adds up every passage holding
    a question word (most of them for a common word in a million passages), a search needs
    its few dozen candidates. The scores are bm25s's own, equal to `get_scores(...)[docs]`.
    """
    import numpy as np

    known = [t for t in tokens(question) if t in bm25.vocab_dict]
    if docs is None:
        if not known:
            return np.zeros(int(bm25.scores["num_docs"]), dtype=np.float32)
        return bm25.get_scores(known).astype(np.float32)
    return _scores_of(bm25, [bm25.vocab_dict[t] for t in known], np.asarray(docs)).astype(np.float32)


def _scores_of(bm25: bm25s.BM25, words: list[int], docs):
    """bm25s's sum for these passages, word by word in the same order and precision as
    `get_scores`: its score matrix is column-compressed, each word's column a posting list
    of passage ids in increasing order (bm25s builds it sorted; so does `LexicalIds.bm25`),
    binary-searched here for the passages."""
    import numpy as np

    matrix = bm25.scores
    data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
    out = np.zeros(len(docs), dtype=np.dtype(bm25.dtype))
    docs = docs.astype(indices.dtype)  # searchsorted would otherwise convert the posting list
    for w in words:  # a word the question repeats counts again, as in get_scores
        start, end = int(indptr[w]), int(indptr[w + 1])
        posting = indices[start:end]
        at = np.minimum(np.searchsorted(posting, docs), max(end - start - 1, 0))
        held = posting[at] == docs if end > start else np.zeros(len(docs), dtype=bool)
        out[held] += data[start:end][at[held]]
    if bm25.nonoccurrence_array is not None and words:  # BM25L and BM25+ add it to every passage
        out += bm25.nonoccurrence_array[np.asarray(words)].sum()
    return out
