"""Hybrid search: dense and BM25 scores fused, near-duplicates folded, weak matches declined.

A question costs what its candidates cost, not the size of the archive: only the sentences
of the passages the dense search returns are scored, and "how far a sentence stands above
the archive" is measured against the median over a fixed sample of sentences
(`baseline_sample`), not over every sentence of the index.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from bot.core.models import Passage
from bot.retrieval import lexical, questions
from bot.retrieval.store import IndexData, MappedPassages, language_of


@dataclass(frozen=True)
class Hit:
    index: int  # passage row in the index
    score: float  # cosine similarity of question and passage
    fused: float  # the ranking score, 0..1
    highlight: tuple[int, int]  # offsets of the sentence that answers, within the passage text
    sentence_row: int  # that sentence's row in the sentence vectors
    relevance: float  # how far the passage's best-matching sentence stands above the archive's median (sampled)


@dataclass(frozen=True)
class Result:
    hits: tuple[Hit, ...]
    relevance: float  # how far the candidates' best sentence stands above the archive's median (sampled)
    # the next hits after `hits` (search's `spare`): candidates for a later citation only, never the
    # first, and not read by the judge (answering.compose)
    spare: tuple[Hit, ...] = ()


@dataclass(frozen=True)
class SearchParams:
    lexical_weight: float = 0.3  # share of the fused score given to BM25
    sentence_weight: float = 0.5  # share of the dense score taken from the passage's best sentence
    duplicate_similarity: float = 0.5  # highlights this close (centered cosine) state the same fact
    anchor_overlap: float = 0.6  # share of names two highlights must have in common to be one fact
    highlight_lexical_weight: float = 0.1
    # added to a sentence holding what the question asks for (a figure for "how many", a
    # date for "when", a name for "who") that the question does not already say, times
    # how well it fits (questions.Span.fit)
    answer_weight: float = 0.15
    name_share: float = 1 / 3  # of answer_weight for a name or place: capitalised words are everywhere, figures are not
    # share of the BM25 score compared only among passages in one language (article_languages):
    # a passage in another language than the question shares only names and figures with it.
    # The trade-off, on eval/report.py's sets, is in README's Quality section.
    language_share: float = 0.5
    candidates: int = 50
    fusion: str = "convex"  # or "rrf"
    fold_same_facts: bool = True  # False: every passage stands alone (for comparison in bench/quality.py)


def _norm(x: np.ndarray) -> np.ndarray:
    """Min-max onto 0..1; all zeros when the scores do not tell the candidates apart."""
    span = float(x.max() - x.min()) if len(x) else 0.0
    return (x - x.min()) / span if span > 1e-9 else np.zeros_like(x, dtype=float)


def _ranks(x: np.ndarray) -> np.ndarray:
    """1 for the best score; equal scores share the better rank, so a tie (e.g. BM25 all
    zeros, no word known) favours no candidate over another."""
    return np.searchsorted(np.sort(-x), -x, side="left") + 1


def fuse(dense: np.ndarray, bm25: np.ndarray, params: SearchParams) -> np.ndarray:
    """Fused ranking score; convex combination beat reciprocal-rank fusion on the dev set (bench/quality.py)."""
    if params.fusion == "rrf":
        rrf_k = 60

        def rr(x):
            return 1.0 / (rrf_k + _ranks(x))

        return _norm(rr(dense) + rr(bm25) * (params.lexical_weight / (1 - params.lexical_weight)))
    return (1 - params.lexical_weight) * _norm(dense) + params.lexical_weight * _norm(bm25)


def search(
    data: IndexData,
    qvec: np.ndarray,
    question: str,
    k: int,
    params: SearchParams = SearchParams(),
    asked: questions.Question | None = None,
    spare: int = 0,
) -> Result:
    """The k best passages for `question` (its text and vector); `asked`, when given, is what
    the question asks for (a follow-up's kind comes from the new question, not the searched text);
    `spare` more after them in `Result.spare`, which never take the place of one of the k."""
    n = len(data.passages)
    if n == 0:
        return Result((), 0.0)
    median = float(np.median(rows_dot(baseline_sample(data), qvec)))
    m = min(n, params.candidates)
    dense, ids = data.dense.search(qvec.reshape(1, -1).astype(np.float32), m)
    keep = ids[0] >= 0
    cand, dense = ids[0][keep], dense[0][keep]
    flat, counts = _sentence_sims(data, cand, qvec)
    sims = _by_passage(cand, flat, counts)
    top = float(flat.max()) if len(flat) else median
    if np.isnan(top):  # a NaN: whatever max() over each passage's best makes of it
        top = max((float(s.max()) for s in sims.values() if len(s)), default=median)
    relevance = top - median
    q_tokens = set(lexical.tokens(question))
    read = _Read(data)
    said = _Overlaps(q_tokens)
    best = _best_sentences(data, cand, flat, counts, q_tokens, params, read, said)
    own = np.array([sims[int(i)][row - int(data.sentence_start[i])] for i, (row, _) in zip(cand, best, strict=True)])
    asked = asked or questions.analyze(question)
    typed = bool(params.answer_weight) and questions.answer_kind(asked) is not None
    why = bool(params.answer_weight) and asked.kind == "why"
    # a why-question ranks a passage by its sentence giving a reason, lifted as the highlight lifts it
    ranked = np.maximum(own, _reasons(data, cand, sims, read, params.answer_weight)) if why else own
    semantic = (1 - params.sentence_weight) * dense + params.sentence_weight * ranked
    fused = fuse(semantic, lexical_scores(data, question, cand, params, read), params)
    order = np.argsort(-fused, kind="stable")

    hits: list[Hit] = []
    extra: list[Hit] = []
    for o in order:
        i = int(cand[o])
        row, span = best[o]
        hit = Hit(i, float(dense[o]), float(fused[o]), span, row, float(own[o]) - median)
        if len(hits) == k:  # the k are chosen: the spare ones only fold, they replace none
            if _folded_into(data, hit, hits + extra, params, read) is None:
                extra.append(hit)
            if len(extra) == spare:
                break
            continue
        folded = _folded_into(data, hit, hits, params, read)
        if folded is not None:  # the same fact again, or in another language: keep the better passage
            if typed and _holds_answer(read, hit, asked) and not _holds_answer(read, hits[folded], asked):
                hits[folded] = hit  # the one that answers: "40% stake" told again with "por 95 millones de euros"
            continue
        hits.append(hit)
        if len(hits) == k and not spare:
            break
    if typed or why:  # folded by the best-matching sentence, as always; highlighted at the one that answers
        hits = [_answering(data, hit, sims[hit.index], q_tokens, params, asked, read, said) for hit in hits]
        extra = [_answering(data, hit, sims[hit.index], q_tokens, params, asked, read, said) for hit in extra]
    return Result(tuple(hits), relevance, tuple(extra))


def _reasons(data: IndexData, cand: np.ndarray, sims: dict[int, np.ndarray], read, weight: float) -> np.ndarray:
    """Each candidate's most similar sentence giving a reason (questions.gives_reason), its cosine
    plus `weight`; -inf for a candidate with none."""
    out = np.full(len(cand), -np.inf)
    for o, i in enumerate(cand.tolist()):
        text = read[i].text
        spans = data.sentences[i]
        found = [float(v) for v, (a, b) in zip(sims[i], spans, strict=True) if questions.gives_reason(text[a:b])]
        if found:
            out[o] = max(found) + weight
    return out


def _folded_into(data: IndexData, hit: Hit, hits: list[Hit], params: SearchParams, read) -> int | None:
    """The chosen hit stating the same fact as `hit`, if any (none when folding is off)."""
    if not params.fold_same_facts:
        return None
    return next((j for j, chosen in enumerate(hits) if _same_fact(data, hit, chosen, params, read)), None)


def _holds_answer(read: Mapping[int, Passage], hit: Hit, asked: questions.Question) -> bool:
    """Whether the hit's best sentence holds an answer of the kind asked (questions.answer_span)."""
    text = read[hit.index].text
    return questions.answer_span(text[slice(*hit.highlight)], asked, text) is not None


def lexical_scores(
    data: IndexData, question: str, cand: np.ndarray, params: SearchParams, read: Mapping[int, Passage] | None = None
) -> np.ndarray:
    """BM25 of the candidates on 0..1: partly over all of them, partly within each article language.

    An English question shares its ordinary words with English passages only; an Indonesian
    passage that answers it shares the names and figures, and ranked by BM25 among all it
    falls behind English ones that only repeat the question. Within its own language it can
    be first. An archive in one language scores as before: one language, one normalisation;
    so does one indexed before languages were recorded, until `newsbot index --force`.
    """
    bm25 = data.lexicon.scores(question, cand)
    whole = _norm(bm25)
    if not params.language_share or len(cand) < 2:
        return whole
    langs = np.array(article_languages(data, cand, read))
    if (langs == langs[0]).all() or (langs == "").any():
        return whole
    within = np.zeros(len(cand), dtype=float)
    for lang in np.unique(langs):
        mine = langs == lang
        within[mine] = _norm(bm25[mine])
    return (1 - params.language_share) * whole + params.language_share * within


def article_languages(data: IndexData, rows: np.ndarray, read: Mapping[int, Passage] | None = None) -> list[str]:
    """The language of each row's article ("" when the index does not know it), without parsing an article
    written to disk; `read`: the passages this search has parsed (an index in memory has no source array)."""
    passages, articles = data.passages, data.articles
    if isinstance(passages, MappedPassages):
        sources = [passages.source_of(i) for i in rows.tolist()]
    else:
        sources = [(read if read is not None else passages)[i].source for i in rows.tolist()]
    return [language_of(articles, s) for s in sources]


# Sentences whose median against the question is the "archive" baseline: the median of a
# sample this size is within ~0.001 of the full one (its standard error is 1/(2·f·sqrt(n)),
# f the density of similarities at the median), far below the 0.025 that Hit.relevance is
# compared with. Fixed seed: every process and replica draws the same rows for one index.
BASELINE_SAMPLE = 4096
_SAMPLE_SEED = 20_240_612


def baseline_sample(data: IndexData) -> np.ndarray:
    """The sentence vectors the question's median is taken over: the sample the generation was
    written with (IndexData.baseline), else drawn once per loaded index (`draw_baseline`)."""
    stored = getattr(data, "baseline", None)
    if stored is not None:
        return stored
    return _cached(data, "_search_baseline_sample", lambda: draw_baseline(data.sentence_vectors))


def draw_baseline(sentence_vectors: np.ndarray) -> np.ndarray:
    """All the sentence vectors up to BASELINE_SAMPLE, past that a fixed random sample of them."""
    n = len(sentence_vectors)
    if n <= BASELINE_SAMPLE:
        return np.ascontiguousarray(sentence_vectors, dtype=np.float32)
    rows = np.sort(np.random.default_rng(_SAMPLE_SEED).choice(n, BASELINE_SAMPLE, replace=False))
    return np.ascontiguousarray(sentence_vectors[rows], dtype=np.float32)


def sentence_mean(data: IndexData) -> np.ndarray:
    """The mean sentence vector, for centring: the index's own when it carries one, else computed once."""
    mean = getattr(data, "sentence_mean", None)
    if mean is not None:
        return mean
    return _cached(data, "_search_sentence_mean", lambda: data.sentence_vectors.mean(axis=0))


def _cached(data: IndexData, name: str, make):
    """A value derived from one loaded index, kept on it (frozen fields, but a plain __dict__):
    it lives and dies with that index, and a new generation gets its own."""
    found = data.__dict__.get(name)
    return found if found is not None else data.__dict__.setdefault(name, make())


# OpenBLAS shares a matrix-vector product out between all cores past ~460k values (1,200
# sentences of 384 dimensions): on 2 busy cores, handing the sample's product (4096 rows) to
# a second thread took 12-23 ms at p99 against 0.1 ms on one. Blocks this size stay on one.
_ONE_THREAD = 1 << 18  # values of a block


def rows_dot(rows: np.ndarray, qvec: np.ndarray) -> np.ndarray:
    """`rows @ qvec`, in blocks small enough for BLAS to compute each on the calling thread."""
    step = max(1, _ONE_THREAD // max(1, rows.shape[1]))
    if len(rows) <= step:
        return np.asarray(rows @ qvec)
    return np.concatenate([rows[i : i + step] @ qvec for i in range(0, len(rows), step)])


class _Read(dict):
    """The passages one question reads, each parsed once: a loaded index parses a passage
    from disk at every `data.passages[i]`, and a search reads a candidate up to five times."""

    def __init__(self, data: IndexData):
        super().__init__()
        self.data = data

    def __missing__(self, i: int):
        found = self[i] = self.data.passages[i]
        return found


def candidate_sentence_sims(data: IndexData, cand: np.ndarray, qvec: np.ndarray) -> dict[int, np.ndarray]:
    """The question's cosine with each sentence of the candidate passages, by passage: one
    product over those rows only."""
    return _by_passage(cand, *_sentence_sims(data, cand, qvec))


def _sentence_sims(data: IndexData, cand: np.ndarray, qvec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The question's cosine with the candidates' sentences, one after the other, and how many each candidate has."""
    starts = data.sentence_start[cand]
    counts = _sentence_end(data)[cand] - starts
    rows = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    return rows_dot(data.sentence_vectors[rows], qvec), counts


def _by_passage(cand: np.ndarray, flat: np.ndarray, counts: np.ndarray) -> dict[int, np.ndarray]:
    """`_sentence_sims` by candidate: views of `flat`, not copies."""
    ends = np.cumsum(counts).tolist()
    return {int(i): flat[end - n : end] for i, n, end in zip(cand.tolist(), counts.tolist(), ends, strict=True)}


def _sentence_end(data: IndexData) -> np.ndarray:
    """One past the last sentence row of each passage."""
    return _cached(data, "_search_sentence_end", lambda: np.append(data.sentence_start[1:], len(data.sentence_vectors)))


def _answering(
    data: IndexData, hit: Hit, sims: np.ndarray, q_tokens, params: SearchParams, asked, passages=None, said=None
) -> Hit:
    row, span = best_sentence(data, hit.index, sims, q_tokens, params, asked, passages=passages, said=said)
    return replace(hit, highlight=span, sentence_row=row)


_NAME_OR_NUMBER = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][\w-]+|\d[\d.,]*\d|\d")


def anchors(sentence: str) -> set[str]:
    """Names and numbers: what a fact keeps when it is told again in another language."""
    return {a.lower().rstrip(".,") for a in _NAME_OR_NUMBER.findall(sentence.strip())}


def _same_fact(data: IndexData, hit: Hit, other: Hit, params: SearchParams, passages=None) -> bool:
    passages = data.passages if passages is None else passages
    p, q = passages[hit.index], passages[other.index]
    if p.source == q.source and p.start + hit.highlight[0] == q.start + other.highlight[0]:
        return True  # overlapping windows of one article, both best at the same sentence
    a = anchors(p.text[slice(*hit.highlight)])
    b = anchors(q.text[slice(*other.highlight)])
    figures_a, figures_b = _figures(a), _figures(b)
    if figures_a and figures_b and not figures_a & figures_b:
        return False  # two sentences giving different figures disagree (or differ): both may be cited
    sim = _centered_cosine(data, hit.sentence_row, other.sentence_row)
    if sim >= params.duplicate_similarity:
        return True
    shared = a & b
    numbers = {x for x in shared if x[0].isdigit() and not (len(x) == 4 and x.startswith(("19", "20")))}
    # a shared figure and a shared name, or most of the names: the same fact
    return (bool(numbers) and len(shared) > len(numbers)) or (
        len(shared) >= 3 and len(shared) >= params.anchor_overlap * min(len(a), len(b))
    )


def _centered_cosine(data: IndexData, a: int, b: int) -> float:
    """Cosine of two sentences once the direction all embeddings share is taken out: it tells
    topics apart far better. Only these two rows are centred, never a copy of them all."""
    pair = data.sentence_vectors[[a, b]] - sentence_mean(data)
    pair /= np.maximum(np.linalg.norm(pair, axis=1, keepdims=True), 1e-9)
    return float(pair[0] @ pair[1])


def _figures(anchored: set[str]) -> set[str]:
    """The figures among a sentence's anchors, bare (1,3 and 1.3 alike), without years."""
    bare = {re.sub(r"[.,]", "", x) for x in anchored if x[0].isdigit()}
    return {x for x in bare if not (len(x) == 4 and x.startswith(("19", "20")))}


def best_sentence(
    data: IndexData,
    i: int,
    sims: np.ndarray,
    q_tokens: set[str],
    params: SearchParams,
    asked: questions.Question | None = None,
    passages=None,
    said: _Overlaps | None = None,
):
    """(sentence row, offsets in the passage) of the sentence that best answers the question;
    `sims` holds the question's cosine with each of the passage's sentences, in order;
    `passages`, the caller's passages by row when it has them parsed (else `data.passages`);
    `said`, the question's overlaps already computed (else computed here).

    Similarity and the question's words decide; with `asked`, so does holding a span of the
    kind of answer it wants (a figure beside the sentence that only names the company).
    """
    spans = data.sentences[i]
    s0 = int(data.sentence_start[i])
    weight = params.highlight_lexical_weight if q_tokens else 0.0
    if asked is None:
        # The question's words lift a sentence by `weight` at most: one further than that below
        # the most similar cannot overtake it, and when no other is that close, the most similar
        # answers without the text being read. (Python floats: a passage has a few sentences.)
        values = np.asarray(sims).tolist()
        top = max(values)
        near = [j for j, v in enumerate(values) if v + weight + 1e-6 >= top] if weight else ()
        if len(near) < 2:
            j = values.index(top)
            return s0 + j, spans[j]
    else:
        near = range(len(spans))
    sims = np.array(sims)  # a copy, in the vectors' own precision
    text = (data.passages if passages is None else passages)[i].text
    if weight:
        said = _Overlaps(q_tokens) if said is None else said
        sims += weight * said.passages([text], [spans], [near])[0]
    if asked is not None and len(spans) > 1 and asked.kind == "why":
        # a sentence giving a reason answers a why-question as a figure answers "how much"
        fits = np.array([float(questions.gives_reason(text[a:b])) for a, b in spans])
        sims += fits if asked.context else params.answer_weight * fits
    elif asked is not None and len(spans) > 1:
        found = [questions.answer_span(text[a:b], asked, text) for a, b in spans]
        fits = np.array([s.fit if s else 0.0 for s in found])
        if asked.context:
            # a follow-up: the thread's words found the passage, the new question's kind picks the sentence
            sims += fits
        else:
            # a name is in most sentences; a place of the kind asked ("Pelabuhan Merak" for "which port?") is not
            named = questions.answer_kind(asked) in ("who", "where") and not questions.place_kind(asked)
            share = params.name_share if named else 1.0
            # a place or name in a sentence that states the relation asked ("con sede en Madrid") is as
            # telling as a figure; not a role, which a sentence may state for anyone ("co-founder Sam")
            relations = [r for r in questions.relations(asked) if r not in questions.ROLES]
            stated = [any(questions.states(r, text[a:b]) for r in relations) for a, b in spans]
            shares = np.where(stated, 1.0, share) if relations else share
            if thing := questions.thing_kind(asked):  # and a name written as the thing asked ("a vessel")
                written = [
                    s is not None and questions.of_thing_kind(text[a:b], s, thing)
                    for s, (a, b) in zip(found, spans, strict=True)
                ]
                shares = np.where(written, 1.0, shares)
            sims += params.answer_weight * shares * fits
    j = int(np.argmax(sims))
    return s0 + j, spans[j]


def _best_sentences(
    data: IndexData,
    cand: np.ndarray,
    flat: np.ndarray,
    counts: np.ndarray,
    q_tokens,
    params: SearchParams,
    passages,
    said,
):
    """`best_sentence` (without `asked`) of every candidate, computed together: which passages
    must read their text, the question's overlaps with the sentences that could overtake
    their passage's most similar, and each passage's best, in a few array operations;
    `flat` holds the candidates' sentences' cosines one after the other, `counts` how many each has."""
    if not len(cand):
        return []
    if not counts.all() or np.isnan(flat).any():  # what best_sentence does then, it does alone
        sims = _by_passage(cand, flat, counts)
        return [best_sentence(data, int(i), sims[int(i)], q_tokens, params, passages=passages, said=said) for i in cand]
    first = np.cumsum(counts) - counts
    spans = [data.sentences[int(i)] for i in cand]
    weight = params.highlight_lexical_weight if q_tokens else 0.0
    if weight:
        # as in best_sentence, in the same (double) precision: a sentence `weight` below its
        # passage's most similar cannot overtake it, and a passage where none is that close
        # answers with its most similar, unread
        values = flat.astype(np.float64)
        near = values + weight + 1e-6 >= np.repeat(np.maximum.reduceat(values, first), counts)
        near &= np.repeat(np.add.reduceat(near.astype(np.int64), first) >= 2, counts)
        at = np.flatnonzero(near)
        owner = np.searchsorted(first, at, side="right") - 1
        rows: dict[int, list[int]] = {}  # by candidate read, its sentences that could overtake
        for p, j in zip(owner.tolist(), (at - first[owner]).tolist(), strict=True):
            rows.setdefault(p, []).append(j)
        if rows:
            read = list(rows)
            texts = [passages[int(cand[p])].text for p in read]
            overlap = np.zeros(len(flat))
            for p, found in zip(read, said.passages(texts, [spans[p] for p in read], list(rows.values())), strict=True):
                overlap[first[p] : first[p] + counts[p]] = found
            flat = flat.copy()
            flat += weight * overlap  # in the vectors' own precision, as best_sentence adds
    best = _first_max(flat, first, counts).tolist()
    starts = data.sentence_start[cand].tolist()
    return [(s0 + j, s[j]) for s0, j, s in zip(starts, best, spans, strict=True)]


def _first_max(values: np.ndarray, first: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Where each run of `counts` values from `first` is greatest, within the run: its first
    greatest, as np.argmax gives."""
    top = np.flatnonzero(values == np.repeat(np.maximum.reduceat(values, first), counts))
    return top[np.searchsorted(top, first)] - first


def _overlap(q_tokens: set[str], sentence: str) -> float:
    """Share of the question's words in the sentence. Tokenizing every candidate sentence was
    most of a question's cost, so a sentence where no question word even appears as a word
    (`_word_finder`) is not tokenized at all."""
    # str.lower() writes a word-final Σ as ς, but a token lower-cased on its own may keep σ
    if not _word_finder(frozenset(t.replace("ς", "σ") for t in q_tokens)).search(sentence.lower().replace("ς", "σ")):
        return 0.0
    return len(q_tokens & set(lexical.tokens(sentence))) / len(q_tokens)


def _overlaps(q_tokens: set[str], text: str, spans, rows) -> np.ndarray:
    """`_overlap` of the sentences `rows` of a passage (0 for the others)."""
    return _Overlaps(q_tokens).passages([text], [spans], [rows])[0]


class _Overlaps(dict):
    """`_overlap` of sentences, by their text, for one question: overlapping windows of an
    article share sentences, and a typed question scores its hits' sentences again, so each
    sentence is tokenized once a question, and then only its words holding a question word."""

    def __init__(self, q_tokens: set[str]):
        super().__init__()
        self.q_tokens = q_tokens
        self.words = frozenset(t.replace("ς", "σ") for t in q_tokens)
        self.holding = _holding(self.words)

    def __missing__(self, sentence: str) -> float:
        found = self[sentence] = self._share(sentence)
        return found

    def _share(self, sentence: str) -> float:
        """`_overlap`, tokenizing only the runs of non-space characters in which a question
        word occurs, lower-cased: a token never spans a space (`lexical.tokens` finds each run's
        alone), and a token of the question is, lower-cased, part of the run it comes from."""
        low = sentence.lower().replace("ς", "σ")
        if len(low) != len(sentence):  # a letter lower-cased into two (İ): offsets differ
            return _overlap(self.q_tokens, sentence)
        runs = " ".join(sentence[m.start() : m.end()] for m in self.holding.finditer(low))
        return len(self.q_tokens & set(lexical.tokens(runs))) / len(self.q_tokens) if runs else 0.0

    def passages(self, texts, spans, rows) -> list[np.ndarray]:
        """`_overlap` of the sentences `rows[p]` of each passage `texts[p]` (0 for the others).
        The passages are lower-cased and searched for each question word together, and a
        sentence in which no question word occurs even as a substring (str.find, far cheaper
        than the word filter) is not looked at."""
        out = [np.zeros(len(s)) for s in spans]
        lows, base, at = [], [], 0
        for p, text in enumerate(texts):
            low = text.lower().replace("ς", "σ")
            if len(low) != len(text):  # a letter lower-cased into two (İ): offsets differ, one sentence at a time
                for j in rows[p]:
                    out[p][j] = self[text[slice(*spans[p][j])]]
                low = None
            lows.append(low)
            base.append(at)
            at += len(low or "") + 1
        joined = "\n".join(low or "" for low in lows)  # no question word holds a line break: none spans two passages
        found = sorted([at for w in self.words for at in _occurrences(joined, w)])
        if not found:
            return out
        for p, text in enumerate(texts):
            if lows[p] is None:
                continue
            for j in rows[p]:
                a, b = spans[p][j]
                k = bisect.bisect_left(found, base[p] + a)
                # each letter is lower-cased alone, but Σ, which is σ on both sides: the sentence's
                # own lower-casing (in `_overlap`) is low[a:b]
                if k < len(found) and found[k] < base[p] + b:
                    out[p][j] = self[text[a:b]]
        return out


def _occurrences(text: str, word: str) -> list[int]:
    """Where `word` starts in `text`, overlapping occurrences included."""
    found, at = [], text.find(word)
    while at >= 0:
        found.append(at)
        at = text.find(word, at + 1)
    return found


@functools.lru_cache(maxsize=256)
def _holding(words: frozenset[str]) -> re.Pattern:
    """Finds, in lower-cased text, each run of non-space characters in which one of `words` occurs."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\S)\S*?(?:{alternatives})\S*")


@functools.lru_cache(maxsize=256)
def _word_finder(q_tokens: frozenset[str]) -> re.Pattern:
    """Finds, in lower-cased text, every place one of these tokens could come from: a token
    (lexical.tokens) is a whole word lower-cased, less up to two plural s's."""
    words = "|".join(re.escape(t) for t in sorted(q_tokens, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{words})s{{0,2}}(?!\w)")
