"""The shortcuts of a question's search give exactly what the plain algorithm gives.

`search` scores the candidates' sentences together (`_best_sentences`), tokenizes a
sentence once per question and only its runs holding a question word (`_Overlaps`). Each is
checked against the plain way: every candidate on its own, every sentence tokenized whole.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.retrieval import lexical, questions, search
from bot.retrieval.search import SearchParams
from tests.conftest import ROOT
from tests.retrieval.test_search_costs import WORDS, archive, question_vector


def exact(q_tokens: set[str], sentence: str) -> float:
    """Share of the question's words among the sentence's tokens, the sentence tokenized whole."""
    return len(q_tokens & set(lexical.tokens(sentence))) / len(q_tokens)


def every_sentence(data, cand, flat, counts, q_tokens, params, passages, said):
    """`_best_sentences` the plain way: each candidate alone, every sentence's overlap computed."""
    sims = search._by_passage(cand, flat, counts)
    best = []
    for i in cand.tolist():
        spans, text = data.sentences[i], data.passages[i].text
        values = np.array(sims[i])
        if q_tokens and params.highlight_lexical_weight:
            values += params.highlight_lexical_weight * np.array([exact(q_tokens, text[a:b]) for a, b in spans])
        j = int(np.argmax(values))
        best.append((int(data.sentence_start[i]) + j, spans[j]))
    return best


def plainly(monkeypatch):
    """Make `search` take the plain way from here on."""
    monkeypatch.setattr(search, "_best_sentences", every_sentence)
    monkeypatch.setattr(search._Overlaps, "_share", lambda self, sentence: exact(self.q_tokens, sentence))


def outcome(result) -> tuple:
    return tuple(dataclasses.astuple(h) for h in result.hits), result.relevance


SEED_QUESTIONS = [
    json.loads(line)["q"]
    for name in ("seeds_questions.jsonl", "seeds_uncovered.jsonl")
    for line in (ROOT / "eval" / name).read_text().splitlines()
    if line.strip()
]


@pytest.mark.parametrize("params", [SearchParams(), SearchParams(fold_same_facts=False, candidates=20)])
def test_search_on_the_seeds_gives_what_the_plain_algorithm_gives(seeds_engine, embedder, monkeypatch, params):
    data = seeds_engine.data
    asks = []
    for q in SEED_QUESTIONS:
        asked = questions.analyze(q)
        asks.append((embedder.query(asked.searched), asked.searched, asked))
    fast = [outcome(search.search(data, v, text, 3, params, asked)) for v, text, asked in asks]
    plainly(monkeypatch)
    plain = [outcome(search.search(data, v, text, 3, params, asked)) for v, text, asked in asks]
    assert fast == plain
    assert sum(bool(hits) for hits, _ in fast) > len(SEED_QUESTIONS) / 2


def test_search_on_a_generated_archive_gives_what_the_plain_algorithm_gives(monkeypatch):
    data, topics = archive(600, seed=11)
    asks = []
    for k in range(40):
        words = " ".join(WORDS[k % 9 : k % 9 + 1 + k % 4])
        text = ("How many " if k % 3 == 0 else "") + words  # a third typed: their hits highlighted again
        asks.append((question_vector(topics, k, seed=k), text, questions.analyze(text)))
    params = [SearchParams(), SearchParams(highlight_lexical_weight=0.3), SearchParams(highlight_lexical_weight=0.0)]
    fast = [outcome(search.search(data, v, t, 4, p, a)) for v, t, a in asks for p in params]
    plainly(monkeypatch)
    plain = [outcome(search.search(data, v, t, 4, p, a)) for v, t, a in asks for p in params]
    assert fast == plain


_ARCHIVE = archive(12, seed=12, per_passage=5)[0]


@settings(max_examples=200, deadline=None)
@given(
    sims=st.lists(st.sampled_from([0.70, 0.79, 0.7999, 0.8, 0.80001, 0.85, 0.9, 0.9, 0.95]), min_size=60, max_size=60),
    words=st.sets(st.sampled_from(WORDS), min_size=0, max_size=4),
    weight=st.sampled_from([0.0, 0.05, 0.1, 0.3]),
    cand=st.lists(st.integers(0, 11), min_size=1, max_size=12, unique=True),
)
def test_the_candidates_scored_together_pick_what_each_scored_alone_picks(sims, words, weight, cand):
    data, params = _ARCHIVE, SearchParams(highlight_lexical_weight=weight)
    cand = np.array(cand)
    counts = np.full(len(cand), 5)
    flat = np.array(sims[: 5 * len(cand)], dtype=np.float32)  # ties and near-ties around the weight's reach
    said = search._Overlaps(words)
    together = search._best_sentences(data, cand, flat, counts, words, params, data.passages, said)
    alone = [search.best_sentence(data, int(i), flat[5 * p : 5 * p + 5], words, params) for p, i in enumerate(cand)]
    assert together == alone == every_sentence(data, cand, flat, counts, words, params, None, None)


_SPACES = [" ", " ", " ", "\t", "\n", "\xa0", "\u2003", "\u3000"]
_TEXT = st.text(alphabet=st.sampled_from([*"abSsuAIGPU0123.,-'éÉ", "ß", "İ", "Σ", "ς", *_SPACES]), max_size=40)


@settings(max_examples=400, deadline=None)
@given(sentence=_TEXT, question=_TEXT, extra=_TEXT)
def test_tokenizing_only_the_runs_holding_a_question_word_gives_the_same_overlap(sentence, question, extra):
    q_tokens = set(lexical.tokens(question)) | set(lexical.tokens(extra + " " + sentence)[:2])
    if q_tokens:
        assert search._Overlaps(q_tokens)[sentence] == exact(q_tokens, sentence)


@settings(max_examples=300, deadline=None)
@given(
    passages=st.lists(st.lists(_TEXT, min_size=1, max_size=4), min_size=1, max_size=4),
    question=_TEXT,
    extra=_TEXT,
    data=st.data(),
)
def test_passages_searched_together_give_each_sentence_its_overlap(passages, question, extra, data):
    texts, spans = [], []
    for sentences in passages:
        at, offsets = 0, []
        for s in sentences:
            offsets.append((at, at + len(s)))
            at += len(s) + 1
        texts.append(" ".join(sentences))
        spans.append(offsets)
    q_tokens = set(lexical.tokens(question)) | set(lexical.tokens(extra + " " + texts[-1])[:2])
    if not q_tokens:
        return
    rows = [sorted(data.draw(st.sets(st.integers(0, len(s) - 1)))) for s in spans]
    got = search._Overlaps(q_tokens).passages(texts, spans, rows)
    for text, offsets, chosen, found in zip(texts, spans, rows, got, strict=True):
        want = [exact(q_tokens, text[a:b]) if j in chosen else 0.0 for j, (a, b) in enumerate(offsets)]
        assert found.tolist() == want


def test_a_sentence_is_tokenized_once_per_question_though_windows_share_it(seeds_engine, embedder, monkeypatch):
    data = seeds_engine.data
    said: list[str] = []
    share = search._Overlaps._share
    monkeypatch.setattr(
        search._Overlaps, "_share", lambda self, sentence: said.append(sentence) or share(self, sentence)
    )
    shared = read = 0
    for q in SEED_QUESTIONS[:20]:
        asked = questions.analyze(q)  # typed ones score their hits' sentences a second time
        qvec = embedder.query(asked.searched)
        said.clear()
        search.search(data, qvec, asked.searched, 3, asked=asked)
        assert len(said) == len(set(said))
        read += len(said)
        cand = data.dense.search(qvec.reshape(1, -1), SearchParams().candidates)[1][0]
        texts = [data.passages[int(i)].text[a:b] for i in cand for a, b in data.sentences[int(i)]]
        shared += len(texts) - len(set(texts))
    assert read and shared  # sentences were read, and overlapping windows offered some twice
