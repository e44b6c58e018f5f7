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
- `answer` (optional): the short answer as the article writes it (a name, figure, date),
  or null when the question has none; scored against the bot's short answer.

The report counts false answers (out-of-scope questions answered) and false declines
(in-scope questions declined), overall and per language; `sweep` shows both across decline
thresholds from the confidence each answer carries, so anyone can see the trade-off on
their own archive.

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
    answer: str | None = None  # the expected short answer, verbatim

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
    short_expected: int = 0  # in-scope questions answered that have an expected short answer
    short_given: int = 0
    short_correct: int = 0
    by_lang: dict[str, list[int]] = field(default_factory=dict)  # lang -> [in, declined, out, answered]
    misses: list[str] = field(default_factory=list)

    @property
    def false_answer_rate(self) -> float:
        return (self.out_of_scope - self.oos_declined) / self.out_of_scope if self.out_of_scope else 0.0

    @property
    def false_decline_rate(self) -> float:
        return self.in_scope_declined / self.in_scope if self.in_scope else 0.0

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
            f"false answers          {self.false_answer_rate:.0%} (out-of-scope questions answered)",
            f"false declines         {self.false_decline_rate:.0%} (in-scope questions declined)",
        ]
        if self.short_expected:
            out.append(
                f"short answer           {self.short_correct}/{self.short_expected} correct, "
                f"{self.short_given}/{self.short_expected} given"
            )
        if len(self.by_lang) > 1:
            for lang, (i, d, o, a) in sorted(self.by_lang.items()):
                out.append(f"  {lang or '?':<4} in-scope declined {d}/{i}, out-of-scope answered {a}/{o}")
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
    answer = row.get("answer")
    if answer is not None and (not isinstance(answer, str) or not answer.strip()):
        raise ValueError(messages.EVAL_BAD_ANSWER.format(value=json.dumps(answer, ensure_ascii=False)))
    return EvalQuestion(q, sources, expect, lang if isinstance(lang, str) else "", answer)


def score(questions: list[EvalQuestion], answers: list[Answer]) -> Report:
    """passage@3 / highlight@3: an expected string in one of the top 3 passages / their
    highlights; source@1: the first passage from a listed source; MRR over the first
    passage holding an expected string; declines counted apart for both kinds of question."""
    r = Report()
    for q, a in zip(questions, answers, strict=True):
        lang = r.by_lang.setdefault(q.lang, [0, 0, 0, 0])
        if not q.in_scope:
            r.out_of_scope += 1
            lang[2] += 1
            if a.answered:
                lang[3] += 1
                r.misses.append(f"answered out-of-scope: {q.q!r} (cited {', '.join(a.sources)})")
            else:
                r.oos_declined += 1
            continue
        r.in_scope += 1
        lang[0] += 1
        if not a.answered:
            r.in_scope_declined += 1
            lang[1] += 1
            r.misses.append(f"declined: {q.q!r}")
            continue
        if q.answer is not None:
            r.short_expected += 1
            r.short_given += a.short is not None
            if short_matches(a.short, q.answer):
                r.short_correct += 1
            else:
                r.misses.append(f"short answer {a.short!r}, expected {q.answer!r}: {q.q!r}")
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


def short_matches(given: str | None, expected: str) -> bool:
    """Right when one holds the other: "$14,8 miliar" for "14,8 miliar", "Rahul Patil" for "Patil"."""
    if not given:
        return False
    g, e = given.casefold().strip(), expected.casefold().strip()
    return e in g or g in e


@dataclass(frozen=True)
class SweepRow:
    threshold: float
    false_answers: int
    out_of_scope: int
    false_declines: int
    in_scope: int


def sweep(questions: list[EvalQuestion], answers: list[Answer], steps: int = 11) -> list[SweepRow]:
    """False answers and false declines if the decline threshold were each of `steps` values.

    The thresholds are spread over the confidences the questions actually got (evenly by
    rank, not by value), so each row moves some questions across the line. An answer is
    given at threshold t when its confidence is at least t; questions declined before any
    scoring (empty, too long) never count as answered.
    """
    scored = [(q, a.confidence) for q, a in zip(questions, answers, strict=True) if a.confidence is not None]
    finite = sorted({c for _, c in scored if c != float("-inf")})
    if not finite:
        return []
    picks = sorted({round(i * (len(finite) - 1) / max(steps - 1, 1)) for i in range(steps)})
    rows = []
    out_of_scope = sum(not q.in_scope for q, _ in scored)
    in_scope = len(scored) - out_of_scope
    for t in (finite[i] for i in picks):
        fa = sum(1 for q, c in scored if not q.in_scope and c >= t)
        fd = sum(1 for q, c in scored if q.in_scope and c < t)
        rows.append(SweepRow(t, fa, out_of_scope, fd, in_scope))
    return rows


def sweep_lines(rows: list[SweepRow], current: float | None = None) -> list[str]:
    out = ["threshold  false answers       false declines"]
    for row in rows:
        fa = f"{row.false_answers}/{row.out_of_scope}" + (
            f" ({row.false_answers / row.out_of_scope:.0%})" if row.out_of_scope else ""
        )
        fd = f"{row.false_declines}/{row.in_scope}" + (
            f" ({row.false_declines / row.in_scope:.0%})" if row.in_scope else ""
        )
        out.append(f"{row.threshold:9.3f}  {fa:<18}  {fd}")
    if current is not None:
        out.append(f"(the engine's threshold now: {current:.3f}; set it with NEWSBOT_MIN_RELEVANCE)")
    return out
