"""Frozen data types passed between the core and the platform edges."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Article:
    source: str  # file name relative to the seeds folder: this is the citation key
    title: str
    text: str
    url: str | None = None  # the article's (canonical) link, http(s) only
    site: str | None = None  # publisher or site name ("techcrunch.com")
    published: str | None = None  # ISO 8601 date or date-time, as the page or front matter gave it
    lang: str | None = None  # ISO 639-1 code when known ("en", "id")

    @property
    def info(self) -> SourceInfo:
        return SourceInfo(self.source, self.title, self.url, self.site, self.published, self.lang)


@dataclass(frozen=True)
class SourceInfo:
    """What the archive knows about one article besides its text: enough to cite it and to list it."""

    source: str
    title: str
    url: str | None = None
    site: str | None = None
    published: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Passage:
    source: str
    title: str
    text: str
    start: int  # character offsets into the article text
    end: int


@dataclass(frozen=True)
class Citation:
    """One passage of an answer, numbered as it is cited: [rank]."""

    rank: int
    source: str
    title: str
    text: str
    highlight: str  # the sentence of `text` that best answers the question
    score: float
    url: str | None = None  # the article's link, site and date (SourceInfo), None when unknown
    site: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    passages: tuple[Citation, ...] = ()
    reason: str = ""  # why it was not answered: "empty", "too_long", "not_covered"
    short: str | None = None  # the answering phrase (a name, figure, date): a span of the first highlight
    lang: str = "en"  # the language of the question: the bot's own words follow it ("en" or "id")
    confidence: float | None = None  # how sure the bot is that the articles cover it (see trust.judge)

    @property
    def sources(self) -> tuple[str, ...]:
        """Cited files, in order of first citation, without repeats."""
        return tuple(dict.fromkeys(c.source for c in self.passages))

    def to_dict(self) -> dict:
        """The JSON contract of `newsbot ask --json`, one object per question:

        {"question": str, "answered": bool, "reason": "not_covered" | "empty" | "too_long" | null,
         "answer": str | null,
         "passages": [{"rank", "source", "title", "text", "highlight", "similarity", "url", "site", "published"}]}

        `answer` is the short answer (a name, figure or date), a span of the first passage's
        highlight, or null when there is none. `reason` says why a question was declined
        (null when answered), so a script can tell
        "not in the articles" from "ask again differently". `passages` are in the order the
        bot cites them, `rank` 1 first: the fused dense + BM25 ranking. `similarity` is the
        cosine similarity of question and passage, shown as a hint, not the ranking, so it
        need not fall from one passage to the next; hence not called "score". `url`, `site`
        and `published` (ISO 8601) say where the article came from; null when unknown.
        """
        passages = []
        for c in sorted(self.passages, key=lambda c: c.rank):
            row = asdict(c)
            row["similarity"] = row.pop("score")
            for key in ("url", "site", "published"):  # after similarity: the older keys keep their places
                row[key] = row.pop(key)
            passages.append(row)
        return {
            "question": self.question,
            "answered": self.answered,
            "reason": None if self.answered else (self.reason or None),
            "answer": self.short,
            "passages": passages,
        }


@dataclass(frozen=True)
class IndexReport:
    """What an index build or update did."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # unreadable files, each with its reason
    duplicates: tuple[str, ...] = ()  # files that repeat an indexed article (same link or same text), with which
    unchanged: int = 0
    passages: int = 0
    rebuilt_because: str = ""  # non-empty when the whole index was rebuilt
    warnings: tuple[str, ...] = field(default=())
    calibration: str = ""  # the decline calibration the new index carries, in words (retrieval/calibration.py)
    dense: str = ""  # the dense index chosen and why (manifest["dense"]["reason"], retrieval/store.py)
    languages: str = ""  # how many articles in each language, in words (retrieval/languages.py)

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.rebuilt_because)


# What became of a question on a chat platform: the dispatcher's outcome, rendered by the reply layer.
Kind = Literal["answered", "declined", "rate_limited", "busy", "error", "shutting_down"]


@dataclass(frozen=True)
class Reply:
    kind: Kind
    answer: Answer | None = None
    retry_after: int = 0  # seconds, for rate_limited
    lang: str = "en"  # the asker's language: the bot's own words follow it
