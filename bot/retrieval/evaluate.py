"""Score the engine on a question file: `newsbot eval FILE`.

The file holds one JSON object a line (blank lines are skipped), e.g.

    {"q": "Who is Anthropic's new CTO?", "lang": "en", "sources": ["001_ca3102186ee2e08c.txt"], "expect": ["Patil"]}
    {"q": "Apa cuaca di Jakarta hari ini?", "lang": "id", "sources": [], "expect": []}

- `q`: the question, as a person would ask it.
- `lang`: the question's language ("en", "id", ...); informative, not scored.
- `sources`: the seed files (names as in the seeds folder) that answer it. Empty means
  out of scope: the bot should decline.
- `expect`: strings, any one of which must appear (case-sensitive) in a returned passage
  for the answer to count; needed for every in-scope question.

`examples/questions.jsonl` is a small file in this format about the repository's seeds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.core import messages
from bot.core.errors import NewsbotError
from bot.core.models import Answer


@dataclass(frozen=True)
class EvalQuestion:
    q: str
    sources: tuple[str, ...]
    expect: tuple[str, ...]
    lang: str = ""

    @property
    def in_scope(self) -> bool:
        return bool(self.sources)


@dataclass
class Report:
    in_scope: int = 0
    out_of_scope: int = 0
    passage_at_3: int = 0
    highlight_at_3: int = 0
    source_at_1: int = 0
    reciprocal_ranks: float = 0.0
    oos_declined: int = 0
    in_scope_declined: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def mrr(self) -> float:
        return self.reciprocal_ranks / self.in_scope if self.in_scope else 0.0

    def lines(self) -> list[str]:
        n = self.in_scope
        out = [
            f"answer-passage@3    {self.passage_at_3}/{n}",
            f"answer-highlight@3  {self.highlight_at_3}/{n}",
            f"source@1            {self.source_at_1}/{n}",
            f"MRR                 {self.mrr:.3f}",
            f"out-of-scope declined  {self.oos_declined}/{self.out_of_scope}",
            f"in-scope declined      {self.in_scope_declined}/{n}",
        ]
        if self.misses:
            out = ["Misses:", *[f"  {m}" for m in self.misses], "", *out]
        return out


def read_questions(path: Path) -> list[EvalQuestion]:
    """The questions in `path`; NewsbotError naming the file, the line and what is wrong."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise NewsbotError(messages.EVAL_UNREADABLE.format(path=path, detail=exc.strerror)) from None
    except UnicodeDecodeError as exc:
        raise NewsbotError(messages.EVAL_NOT_UTF8.format(path=path, detail=exc.reason)) from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(_question(json.loads(line)))
        except ValueError as exc:
            raise NewsbotError(
                messages.EVAL_BAD_LINE.format(path=path, line=n, detail=exc, format=messages.EVAL_FORMAT)
            ) from None
    if not out:
        raise NewsbotError(messages.EVAL_EMPTY.format(path=path, format=messages.EVAL_FORMAT))
    return out


def _strings(row: dict, key: str) -> tuple[str, ...]:
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(messages.EVAL_NOT_STRINGS.format(key=key, value=json.dumps(value, ensure_ascii=False)))
    return tuple(value)


def _question(row) -> EvalQuestion:
    if not isinstance(row, dict):
        raise ValueError(messages.EVAL_NOT_OBJECT.format(kind=type(row).__name__))
    q = row.get("q")
    if not isinstance(q, str) or not q.strip():
        raise ValueError(messages.EVAL_NO_QUESTION)
    sources, expect = _strings(row, "sources"), _strings(row, "expect")
    if sources and not expect:
        raise ValueError(messages.EVAL_NO_EXPECT)
    lang = row.get("lang", "")
    return EvalQuestion(q, sources, expect, lang if isinstance(lang, str) else "")


def score(questions: list[EvalQuestion], answers: list[Answer]) -> Report:
    """passage@3 / highlight@3: an expected string in one of the top 3 passages / their
    highlights; source@1: the first passage from a listed source; MRR over the first
    passage holding an expected string; declines counted apart for both kinds of question."""
    r = Report()
    for q, a in zip(questions, answers, strict=True):
        if not q.in_scope:
            r.out_of_scope += 1
            if a.answered:
                r.misses.append(f"answered out-of-scope: {q.q!r} (cited {', '.join(a.sources)})")
            else:
                r.oos_declined += 1
            continue
        r.in_scope += 1
        if not a.answered:
            r.in_scope_declined += 1
            r.misses.append(f"declined: {q.q!r}")
            continue
        top = a.passages[:3]

        def has(text: str, expect=q.expect) -> bool:
            return any(e in text for e in expect)

        ranks = [c.rank for c in a.passages if has(c.text)]
        if ranks:
            r.reciprocal_ranks += 1 / ranks[0]
        if any(has(c.text) for c in top):
            r.passage_at_3 += 1
        else:
            r.misses.append(f"no answer passage in top 3: {q.q!r} (expected {' / '.join(q.expect)})")
        if any(has(c.highlight) for c in top):
            r.highlight_at_3 += 1
        elif any(has(c.text) for c in top):
            r.misses.append(f"answer not in a highlight: {q.q!r}")
        if top and top[0].source in q.sources:
            r.source_at_1 += 1
        else:
            r.misses.append(f"wrong source at 1: {q.q!r} ({top[0].source if top else '-'})")
    return r
