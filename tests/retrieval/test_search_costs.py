"""What a question costs: only its candidates' sentences and a fixed sample are read, never every sentence.

On a generated archive (topic-clustered vectors, passages whose vector is their sentences'
mean), and on sentences written here in English and Indonesian for the word filter.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.models import Passage
from bot.retrieval import lexical, questions, search
from bot.retrieval.search import SearchParams
from bot.retrieval.store import in_memory

DIM = 32
WORDS = "harbour bridge cyclist council budget tunnel station engineer harga beras pasar banjir".split()


def archive(n_passages: int, seed: int = 0, per_passage: int = 3):
    """(IndexData, the topic centres): passages of `per_passage` sentences, vectors around a few topics."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(8, DIM)) + 2.0  # a shared direction, as real embeddings have
    passages, sentences, sentence_vectors, passage_vectors = [], [], [], []
    for i in range(n_passages):
        topic = topics[i % len(topics)]
        said = [" ".join(rng.choice(WORDS, 6)).capitalize() + f" {i}." for _ in range(per_passage)]
        text = " ".join(said)
        spans, at = [], 0
        for s in said:
            spans.append((at, at + len(s)))
            at += len(s) + 1
        vecs = topic + rng.normal(size=(per_passage, DIM))
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        passages.append(Passage(f"a{i // 4}.txt", f"A{i // 4}", text, 0, len(text)))
        sentences.append(tuple(spans))
        sentence_vectors.append(vecs)
        mean = vecs.mean(axis=0)
        passage_vectors.append(mean / np.linalg.norm(mean))
    lexicon = lexical.Lexicon.of_texts([p.text for p in passages])
    data = in_memory(
        {},
        passages,
        sentences,
        np.array(passage_vectors, dtype=np.float32),
        np.concatenate(sentence_vectors).astype(np.float32),
        lexicon,
    )
    return data, topics


def question_vector(topics: np.ndarray, k: int, seed: int) -> np.ndarray:
    v = topics[k % len(topics)] + np.random.default_rng(seed).normal(size=DIM)
    return (v / np.linalg.norm(v)).astype(np.float32)


class Watched(np.ndarray):
    """Sentence vectors that note which rows are read and refuse a product over all of them."""

    def __getitem__(self, key):
        rows = np.arange(len(self))[key]
        self.read.update(np.atleast_1d(rows).tolist())
        return np.asarray(self)[key]

    def __matmul__(self, other):
        raise AssertionError("a product over every sentence vector")


def test_a_question_reads_only_its_candidates_sentences_and_the_sample(monkeypatch):
    monkeypatch.setattr(search, "BASELINE_SAMPLE", 100)
    data, topics = archive(1000)
    watched = np.asarray(data.sentence_vectors).view(Watched)
    watched.read = set()
    object.__setattr__(data, "sentence_vectors", watched)
    params = SearchParams(candidates=20)
    qvec = question_vector(topics, 3, seed=1)

    result = search.search(data, qvec, "harbour budget", 3, params)

    sample = set(watched.read)  # the sample is gathered on first use: read it separately
    assert len(search.baseline_sample(data)) == 100
    _, ids = data.dense.search(qvec.reshape(1, -1), params.candidates)
    candidate_rows = {int(data.sentence_start[i]) + j for i in ids[0] for j in range(len(data.sentences[i]))}
    assert result.hits and {h.sentence_row for h in result.hits} <= candidate_rows
    assert len(sample) <= 100 + len(candidate_rows) + 2 * len(result.hits)  # + the pairs compared for folding
    assert len(sample) < len(watched) / 10

    watched.read.clear()
    search.search(data, qvec, "harbour budget", 3, params)
    assert len(watched.read - candidate_rows) <= 2 * 3  # warm: no sample drawn again, only candidates and pairs


def test_the_sampled_median_is_close_to_the_full_one_and_the_same_for_every_load():
    data, topics = archive(6000)  # 18,000 sentences, a sample of 4,096
    again, _ = archive(6000)
    sample = search.baseline_sample(data)
    assert len(sample) == search.BASELINE_SAMPLE < len(data.sentence_vectors)
    assert search.baseline_sample(data) is sample  # drawn once per loaded index
    assert np.array_equal(search.baseline_sample(again), sample)  # every process draws the same rows
    gaps = []
    for k in range(40):
        q = question_vector(topics, k, seed=k)
        gaps.append(abs(float(np.median(data.sentence_vectors @ q)) - float(np.median(sample @ q))))
    assert max(gaps) < 0.01 and np.mean(gaps) < 0.004  # a follower needs 0.025 above it


def test_a_small_archive_takes_the_median_of_every_sentence():
    data, topics = archive(50)
    q = question_vector(topics, 1, seed=2)
    hit = search.search(data, q, "bridge", 1).hits[0]
    full = float(np.median(data.sentence_vectors @ q))
    assert hit.relevance == pytest.approx(float(data.sentence_vectors[hit.sentence_row] @ q) - full, abs=1e-6)


def test_result_relevance_is_the_best_candidate_sentence_above_the_median():
    data, topics = archive(400)
    q = question_vector(topics, 5, seed=3)
    result = search.search(data, q, "tunnel", 3)
    median = float(np.median(data.sentence_vectors @ q))
    best = float((data.sentence_vectors @ q).max())
    assert result.relevance == pytest.approx(best - median, abs=1e-6)  # clustered: the best is a candidate
    assert all(h.relevance <= result.relevance + 1e-6 for h in result.hits)


def test_two_sentences_are_centred_alone_as_if_every_sentence_were():
    data, _ = archive(300)
    vectors = np.asarray(data.sentence_vectors, dtype=np.float64)
    centred = vectors - vectors.mean(axis=0)
    centred /= np.linalg.norm(centred, axis=1, keepdims=True)
    for a, b in [(0, 1), (5, 700), (899, 3)]:
        assert search._centered_cosine(data, a, b) == pytest.approx(centred[a] @ centred[b], abs=1e-5)


def test_an_index_without_a_stored_mean_computes_it_once():
    vectors = np.random.default_rng(4).normal(size=(50, DIM)).astype(np.float32)
    data = SimpleNamespace(sentence_vectors=vectors, sentence_mean=None)
    mean = search.sentence_mean(data)
    assert np.allclose(mean, vectors.mean(axis=0)) and search.sentence_mean(data) is mean
    stored = SimpleNamespace(sentence_vectors=vectors, sentence_mean=np.ones(DIM, np.float32))
    assert np.array_equal(search.sentence_mean(stored), np.ones(DIM))


# --- the word filter: skipping a sentence changes nothing --------------------------------

SENTENCES = [
    "Nvidia ships 3,000 GPUs to Jakarta's new data centres.",
    "The council's budget for bridges rose 12.5% in 2025.",
    "Harga beras di pasar-pasar Surabaya naik menjadi Rp 14.000.",
    "Pemerintah kota memperkirakan 30.000 pesepeda melintasinya setiap hari.",
    "OpenAI's CEO Sam Altman met LLMs researchers in Paris.",
    "Status of the bus analysis: classes resumed.",
]
QUESTIONS = [
    "How many GPUs did Nvidia ship?",
    "What was the budget for the bridge?",
    "Berapa harga beras di pasar Surabaya?",
    "Berapa pesepeda melintas setiap hari?",
    "Who met the LLM researchers?",
    "What is the status of the buses and the class?",
    "Which city got the centre?",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_word_filter_gives_the_overlap_of_the_tokens(question):
    q_tokens = set(lexical.tokens(question))
    for sentence in SENTENCES:
        exact = len(q_tokens & set(lexical.tokens(sentence))) / len(q_tokens)
        assert search._overlap(q_tokens, sentence) == exact, sentence


def test_the_word_filter_skips_a_sentence_sharing_no_word():
    assert search._overlap({"beras", "surabaya"}, "Utrecht will dig a cycling tunnel.") == 0.0
    assert search._overlap({"bridge"}, "The bridges of Rotterdam.") == 1.0  # plural folded, as tokens do


_TEXT = st.text(alphabet=st.sampled_from([*"abSsuAIGPU0123 .,-'éÉ", "ß", "İ", "Σ"]), max_size=40)


@settings(max_examples=300, deadline=None)
@given(sentence=_TEXT, question=_TEXT, extra=_TEXT)
def test_the_word_filter_never_drops_a_shared_token(sentence, question, extra):
    q_tokens = set(lexical.tokens(question)) | set(lexical.tokens(extra + " " + sentence)[:2])
    if not q_tokens:
        return
    exact = len(q_tokens & set(lexical.tokens(sentence))) / len(q_tokens)
    assert search._overlap(q_tokens, sentence) == exact


def test_a_word_final_sigma_is_still_found():
    # "A'Σ0".lower() is "a'ς0" (final sigma), while the token lower-cased alone is "σ0"
    assert search._overlap(set(lexical.tokens("A'Σ0")), "A'Σ0") == 1.0
    assert search._overlap({"σ0"}, "A'Σ0") == 1.0


# --- a question's work past the dense search: each shortcut gives what the full work gives ----


def _best_reading_every_sentence(data, i, sims, q_tokens, params):
    """best_sentence without its shortcuts: every sentence's word overlap, one at a time."""
    spans, text = data.sentences[i], data.passages[i].text
    values = np.array(sims)
    if q_tokens and params.highlight_lexical_weight:
        overlap = np.array([search._overlap(q_tokens, text[a:b]) for a, b in spans])
        values += params.highlight_lexical_weight * overlap
    j = int(np.argmax(values))
    return int(data.sentence_start[i]) + j, spans[j]


@settings(max_examples=300, deadline=None)
@given(
    sims=st.lists(st.sampled_from([0.70, 0.79, 0.7999, 0.8, 0.80001, 0.85, 0.9, 0.9, 0.95]), min_size=5, max_size=5),
    words=st.sets(st.sampled_from(WORDS), min_size=0, max_size=4),
    weight=st.sampled_from([0.0, 0.05, 0.1, 0.3]),
    seed=st.integers(0, 3),
)
def test_the_highlight_skips_only_sentences_that_cannot_overtake_the_most_similar(sims, words, weight, seed):
    data, _ = _ARCHIVES[seed]
    params = SearchParams(highlight_lexical_weight=weight)
    sims = np.array(sims, dtype=np.float32)  # ties and near-ties around the weight's reach
    for i in range(4):
        expected = _best_reading_every_sentence(data, i, sims, words, params)
        assert search.best_sentence(data, i, sims, words, params) == expected


_ARCHIVES = [archive(4, seed=s, per_passage=5) for s in range(4)]


@settings(max_examples=300, deadline=None)
@given(text=st.lists(_TEXT, min_size=1, max_size=5), question=_TEXT, extra=_TEXT)
def test_the_overlaps_of_a_passage_are_those_of_its_sentences_one_at_a_time(text, question, extra):
    spans, at = [], 0
    for sentence in text:
        spans.append((at, at + len(sentence)))
        at += len(sentence) + 1
    passage = " ".join(text)
    q_tokens = set(lexical.tokens(question)) | set(lexical.tokens(extra + " " + passage)[:2])
    if not q_tokens:
        return
    alone = [search._overlap(q_tokens, passage[a:b]) for a, b in spans]
    assert search._overlaps(q_tokens, passage, spans, range(len(spans))).tolist() == alone
    assert search._overlaps(q_tokens, passage, spans, [0]).tolist() == alone[:1] + [0.0] * (len(spans) - 1)


class Blocks(np.ndarray):
    """Rows that note the size of every product taken over them."""

    def __array_finalize__(self, obj):
        self.sizes = getattr(obj, "sizes", None)

    def __matmul__(self, other):
        self.sizes.append(self.size)
        return np.asarray(self) @ other


def test_a_product_over_many_rows_is_taken_in_blocks_blas_keeps_on_one_thread():
    rows = np.random.default_rng(5).normal(size=(4096, 384)).astype(np.float32)
    q = rows[7] / np.linalg.norm(rows[7])
    watched = rows.view(Blocks)
    watched.sizes = []
    got = search.rows_dot(watched, q)
    assert np.allclose(got, rows @ q, atol=1e-5) and got.shape == (4096,)
    assert len(watched.sizes) > 1 and max(watched.sizes) <= search._ONE_THREAD
    small = rows[:50].view(Blocks)
    small.sizes = []
    assert np.array_equal(search.rows_dot(small, q), rows[:50] @ q) and len(small.sizes) == 1


class CountedPassages(tuple):
    """Passages that count how often each is read, as a loaded index parses one at each read."""

    def __getitem__(self, i):
        if not isinstance(i, slice):
            self.reads[int(i)] = self.reads.get(int(i), 0) + 1
        return tuple.__getitem__(self, i)


def test_a_search_reads_each_candidate_passage_once():
    data, topics = archive(300, seed=6)
    counted = CountedPassages(data.passages)
    counted.reads = {}
    object.__setattr__(data, "passages", counted)
    for k in range(6):
        counted.reads.clear()
        question = " ".join(WORDS[k : k + 3])
        asked = questions.analyze("How many " + question + "?")  # typed: highlighted again at the answer
        result = search.search(data, question_vector(topics, k, seed=k), question, 4, asked=asked)
        assert result.hits and max(counted.reads.values()) == 1
