"""Each distinct sentence is embedded once at index time, and every passage-sentence row still
holds that sentence's own vector (the overlap sentence of two passages, a repeated line)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bot.core.models import Article
from bot.retrieval.chunking import chunk
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.indexing import distinct_sentences, embed_new, embed_text, update_index
from bot.retrieval.store import load_index
from tests.conftest import make_settings

# Written for these tests (not the seeds): short sentences so that 160-character passages overlap,
# and one line repeated word for word, as a scraped page repeats a slogan.
BRIDGE = Article(
    "bridge.txt",
    "River Bridge Reopens After Repairs",
    "The old river bridge reopened on Tuesday after eight months of repairs. "
    "Engineers replaced forty steel cables and the whole deck. "
    "Buses will use the bridge again from next Monday morning. "
    "Cyclists get a wide new lane on the northern side of it. "
    "Subscribe to our newsletter for more local news today. "
    "The city paid nine million euros for the whole project. "
    "Subscribe to our newsletter for more local news today.",
)
PASAR = Article(
    "pasar.txt",
    "Pasar Ikan Baru Dibuka di Pelabuhan",
    "Pasar ikan baru dibuka di pelabuhan Makassar pada hari Sabtu pagi. "
    "Pasar itu punya dua ratus lapak dan ruang pendingin yang besar. "
    "Nelayan boleh menjual hasil tangkapan langsung kepada pembeli. "
    "Pemerintah kota membayar dua belas miliar rupiah untuk bangunan itu.",
)
MAX_CHARS = 160


class Recording:
    """The real model, recording each text it is asked to embed."""

    def __init__(self, model) -> None:
        self.model, self.name, self.dim = model, model.name, model.dim
        self.texts: list[str] = []

    def query(self, text: str) -> np.ndarray:
        return self.model.query(text)

    def passages(self, texts) -> np.ndarray:
        self.texts.extend(texts)
        return self.model.passages(texts)


def config(root) -> RetrievalConfig:
    return RetrievalConfig.from_settings(make_settings(root, chunk_max_chars=MAX_CHARS, chunk_overlap_sentences=1))


def passage_sentences(parts) -> list[str]:
    return [p.text[a:b] for p, spans in zip(parts.passages, parts.sentences, strict=True) for a, b in spans]


@pytest.fixture(scope="module")
def built(embedder, tmp_path_factory):
    """Both articles embedded once, with the texts the model saw."""
    model = Recording(embedder)
    parts = embed_new((BRIDGE, PASAR), config(tmp_path_factory.mktemp("sv")), model, progress=False)
    return parts, model.texts


def test_the_articles_really_overlap_and_repeat():
    """The premise of the other tests: passages share a sentence, and one line comes twice."""
    for article in (BRIDGE, PASAR):
        windows = chunk(article, MAX_CHARS, 1)
        assert len(windows) >= 2
        assert all(a[1][-1] == b[1][0] for a, b in itertools.pairwise(windows))
    assert BRIDGE.text.count("Subscribe to our newsletter") == 2


def test_each_distinct_sentence_is_embedded_once(built):
    parts, seen = built
    texts = [embed_text(p) for p in parts.passages]
    assert seen[: len(texts)] == texts  # every passage, once, in index order
    sentences = seen[len(texts) :]
    assert len(sentences) == len(set(sentences))
    assert set(sentences) == set(passage_sentences(parts))
    assert len(sentences) < len(passage_sentences(parts))  # the overlaps and the repeat were saved


def test_every_passage_sentence_row_holds_that_sentences_own_vector(built, embedder):
    parts, _ = built
    rows = passage_sentences(parts)
    assert parts.sentence_vectors.shape == (len(rows), embedder.dim)  # one row per passage-sentence, as stored
    alone = embedder.passages(rows)
    np.testing.assert_allclose(parts.sentence_vectors, alone, atol=1e-6)
    assert np.array_equal(parts.passage_vectors, embedder.passages([embed_text(p) for p in parts.passages]))


def test_distinct_sentences_reuses_the_first_row_of_a_text():
    article = PASAR
    windows = chunk(article, MAX_CHARS, 1)
    passages = [p for p, _ in windows]
    spans = [tuple((s.start - p.start, s.end - p.start) for s in ss) for p, ss in windows]
    texts, rows = distinct_sentences(passages, spans)
    flat = [p.text[a:b] for p, sp in zip(passages, spans, strict=True) for a, b in sp]
    assert [texts[r] for r in rows] == flat
    assert texts == list(dict.fromkeys(flat))  # first-seen order, no repeats
    assert rows.dtype == np.int64 and rows.max() == len(texts) - 1


def test_an_index_stores_one_row_per_passage_sentence(corpus, embedder):
    """The on-disk layout is unchanged: what a load reads has a row for every sentence of every passage."""
    for article in (BRIDGE, PASAR):
        (corpus / "seeds" / article.source).write_text(f"{article.title}\n\n{article.text}\n", encoding="utf-8")
    data, _ = update_index(config(corpus), embedder)
    loaded = load_index(corpus / "index")
    assert len(loaded.sentence_vectors) == sum(len(s) for s in loaded.sentences) == data.manifest["sentences"]
    for i, spans in enumerate(loaded.sentences):
        row = int(loaded.sentence_start[i])
        a, b = spans[0]
        first = embedder.passages([loaded.passages[i].text[a:b]])[0]
        np.testing.assert_allclose(np.asarray(loaded.sentence_vectors[row]), first, atol=1e-6)
