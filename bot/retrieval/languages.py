"""Which language an article is written in, when neither its page nor its header says.

Search compares BM25 scores within one language at a time (search.lexical_scores): a passage
in another language than the question shares only its names and figures with it, so its
score says little next to same-language passages. Detected once, when an article is indexed,
by py3langid (langid.py's model, 97 languages, numpy only); the model takes 0.8 s to load,
so only indexing loads it, never a question.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from bot.core import messages

# Enough text to tell languages apart: the classifier's cost grows with the text, and a
# whole 1,000-word article took 2-7 ms where its first 2,000 characters decide the same.
SAMPLE_CHARS = 2000


def detect(text: str) -> str | None:
    """The ISO 639-1 code of the text's language, or None for text without letters.

    Raises OSError when the model cannot be loaded: py3langid unpacks it into a temporary
    file, which fails on a full disk.
    """
    sample = text[:SAMPLE_CHARS]
    if not any(c.isalpha() for c in sample):
        return None
    import py3langid  # loads its model on first use

    return str(py3langid.classify(sample)[0])


def describe(codes: Iterable[str]) -> str:
    """How many articles are in each language, most first, for `newsbot index`."""
    counts = Counter(codes)
    unknown = counts.pop("", 0)
    said = ", ".join(f"{lang} {n}" for lang, n in sorted(counts.items(), key=lambda c: (-c[1], c[0])))
    if unknown:
        said = ", ".join(filter(None, [said, messages.INDEX_LANGUAGES_UNKNOWN.format(unknown=unknown)]))
    return messages.INDEX_LANGUAGES.format(counts=said)


def code(lang: str | None) -> str:
    """A declared language as its primary subtag ("en-US" is "en"); "" when unknown."""
    return (lang or "").strip().lower().replace("_", "-").split("-")[0]
