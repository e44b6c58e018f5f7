"""Score the engine on a question file (the format of shared/eval/dev_questions.jsonl)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.errors import NewsbotError
from bot.core.models import Answer


@dataclass(frozen=True)
class EvalQuestion:
    q: str
    sources: tuple[str, ...]
    expect: tuple[str, ...]

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
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise NewsbotError(f"Cannot read {path}: {exc.strerror}") from None
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(EvalQuestion(row["q"], tuple(row.get("sources", ())), tuple(row.get("expect", ()))))
        except (ValueError, KeyError, TypeError) as exc:
            raise NewsbotError(
                f'{path}, line {n}: expected a JSON object with "q", "sources", "expect" ({exc})'
            ) from None
    if not out:
        raise NewsbotError(f"{path} holds no questions.")
    return out


def score(questions: list[EvalQuestion], answers: list[Answer]) -> Report:
    r = Report()
    for q, a in zip(questions, answers, strict=False):
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
