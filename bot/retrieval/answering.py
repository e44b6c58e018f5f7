"""From search hits to what the bot says: which passages to cite, and the short answer.

Search already highlights, in each passage, the sentence that answers (see
`search.best_sentence`). Here the short answer is taken from the first citation's
highlight, verbatim, and passages after the first are kept only when they add something.

Newer first when articles disagree: when two cited passages give different answers of the
same kind (two figures, two dates, two names) from different articles, the one from the
newer article (its `published` date) is cited first and gives the short answer; the older
one stays, second, so both dates are visible. It is still only shown when it would have
been anyway (another article answering about what the question names): a one-fact
question whose articles agree keeps its one citation. An article without a date never
moves ahead of a dated one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from bot.core.models import Citation
from bot.retrieval import questions
from bot.retrieval.questions import Question
from bot.retrieval.search import Hit, Result
from bot.retrieval.store import IndexData, article_text

# For questions without a short answer, passages after the first are quoted only if their
# own best sentence stands this far above the index median (Hit.relevance): half the old
# decline line of 0.05, which cut filler with no loss on the development set.
FOLLOWER_RELEVANCE = 0.025
# "Nearly as relevant as the first": a passage that answers better may go first, and a
# second answer from the article already cited is shown: the search could not tell them apart.
TIE = 0.9
# A later passage answers only with a span of the preferred kind or next to the question's
# words (questions.Span.fit >= 0.625); requiring both dropped nothing more on the seeds set.
MIN_FIT = 0.5
# Hits after the shown ones (search's `spare`) that may stand in for a later hit about something
# else: a passage ranked 4th by 0.001 that answers in another language ("en el puerto de Ferrol")
# for another article's "floating platforms", which does not name the project. On eval/report.py's
# sets, 1, 2 and 4 give the same figures (corpus2 passage@3 54 → 55, highlight 51 → 52).
FOLLOWER_SPARE = 2


@dataclass(frozen=True)
class Composition:
    citations: tuple[Citation, ...]
    short: str | None = None  # the answering phrase, a span of the first citation's highlight


def _answer(data: IndexData, hit: Hit, question: Question) -> questions.Span | None:
    sentence = data.passages[hit.index].text[slice(*hit.highlight)]
    # the whole article tells names apart: "CTO Stripe Rahul Patil" is two names where it writes "Stripe" alone
    span = questions.answer_span(sentence, question, article_text(data.passages, hit.index))
    thing = questions.thing_kind(question)
    # any name answers "Which vessel…?" in form: only one written as that kind of thing answers it
    return span if span is None or thing is None or questions.of_thing_kind(sentence, span, thing) else None


def _names_subject(question: Question, data: IndexData, hit: Hit) -> bool:
    """The highlight, or the title of its article, names what the question names (when it names
    anything): an answer about the same thing, not the same kind of answer about something else."""
    p = data.passages[hit.index]
    return questions.mentions_subject(question, p.text[slice(*hit.highlight)]) or questions.mentions_subject(
        question, p.title
    )


def compose(
    question: Question, result: Result, data: IndexData, spare: Callable[[], tuple[Hit, ...]] | None = None
) -> Composition:
    """Citations and the short answer.

    For a question with a short answer (who, when, where, how many, how much), the passage
    that answers best among those nearly as relevant as the first goes first, and a later
    passage is shown only when its highlight answers with a span of its own, about what
    the question names, and adds something: another article (confirming or contradicting)
    or another answer. So a one-fact question whose answer the first passage gives gets one
    citation. Other questions keep the passages relevant in their own right. A hit that
    answers about something else (it does not name what the question names) lets the next
    of the hits after them be looked at in its place: `spare()`, called only then (the
    search again, with `FOLLOWER_SPARE` more hits).
    """
    if questions.answer_kind(question) is None:
        rest = (h for h in result.hits[1:] if h.relevance >= FOLLOWER_RELEVANCE)
        return Composition(_citations([result.hits[0], *rest], data))
    hits = _answer_first(list(result.hits), data, question)
    first = hits[0]
    found = _answer(data, first, question)
    shown = [first]
    sources = {data.passages[first.index].source}
    answers = {found.text.casefold()} if found else set()

    def follows(hit: Hit) -> bool:
        """Shows `hit` if it adds an answer; False when it answers about something else."""
        if hit.relevance < FOLLOWER_RELEVANCE:
            return True
        span = _answer(data, hit, question)
        if span is None or span.fit < MIN_FIT or (found is not None and span.kind != found.kind):
            if found is None:
                shown.append(hit)  # nothing answers yet: relevant passages, as for other questions
            return True
        if not _names_subject(question, data, hit):
            return False
        source = data.passages[hit.index].source
        # another answer from the same article: only when the search could not tell the two apart
        other_answer = span.text.casefold() not in answers and (found is None or hit.relevance >= TIE * first.relevance)
        if source not in sources or other_answer:
            shown.append(hit)
            sources.add(source)
            answers.add(span.text.casefold())
        return True

    freed = sum(not follows(hit) for hit in hits[1:])
    if freed:
        cited = {h.index for h in result.hits}
        extra = spare() if spare else ()
        for hit in [h for h in extra if h.index not in cited][:freed]:
            follows(hit)
    short = None
    if found is not None:
        shown = _newer_first(shown, data, question)
        top = _answer(data, shown[0], question)
        answering, found = (shown[0], top) if top else (first, found)
        text = data.passages[answering.index].text
        short = questions.whole_answer(text[slice(*answering.highlight)], found)
    return Composition(_citations(shown, data), short)


def _newer_first(hits: list[Hit], data: IndexData, question: Question) -> list[Hit]:
    """Passages that disagree (same kind of answer, different answers, different articles): newest article first."""
    spans = [_answer(data, h, question) for h in hits]
    first = spans[0]
    rivals = [
        j
        for j, (h, s) in enumerate(zip(hits, spans, strict=True))
        if s is not None
        and first is not None
        and s.kind == first.kind
        and (j == 0 or s.text.casefold() != first.text.casefold())
        and (j == 0 or data.passages[h.index].source != data.passages[hits[0].index].source)
    ]
    if len(rivals) < 2:
        return hits
    newest = max(rivals, key=lambda j: (_published(data, hits[j]) is not None, _published(data, hits[j]) or 0))
    if newest == 0 or _published(data, hits[newest]) is None:
        return hits
    return [hits[newest], *(h for j, h in enumerate(hits) if j != newest)]


def _published(data: IndexData, hit: Hit) -> float | None:
    """The article's date as a timestamp (a date alone is midnight UTC); None when unknown or unreadable."""
    archived = data.articles.get(data.passages[hit.index].source)
    value = archived.info.published if archived else None
    if not value:
        return None
    try:
        when = datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def _citations(hits: list[Hit], data: IndexData) -> tuple[Citation, ...]:
    citations = []
    for rank, hit in enumerate(hits, start=1):
        p = data.passages[hit.index]
        a, b = hit.highlight
        archived = data.articles.get(p.source)
        info = archived.info if archived else None
        citations.append(
            Citation(
                rank,
                p.source,
                p.title,
                p.text,
                p.text[a:b],
                round(hit.score, 4),
                url=info.url if info else None,
                site=info.site if info else None,
                published=info.published if info else None,
            )
        )
    return tuple(citations)


def _answer_first(hits: list[Hit], data: IndexData, question: Question) -> list[Hit]:
    """A passage nearly as relevant as the first whose highlight answers clearly better goes first."""
    fit = [(s.fit if s else 0.0) for s in (_answer(data, h, question) for h in hits)]
    near = [j for j, h in enumerate(hits) if h.relevance >= TIE * hits[0].relevance]
    best = max(near, key=lambda j: (fit[j], -j))
    return [hits[best], *(h for j, h in enumerate(hits) if j != best)] if fit[best] > fit[0] else hits
