"""Search: fusion, same-fact folding and the follower filter, on articles written for these tests."""

from __future__ import annotations

import numpy as np
import pytest

from bot.retrieval import search as search_module
from bot.retrieval.answering import FOLLOWER_RELEVANCE
from bot.retrieval.engine import Engine
from bot.retrieval.search import SearchParams, _norm, anchors, article_languages, fuse, lexical_scores, search
from tests.conftest import make_settings

# The same fact in English and Indonesian (same names, same figures), a related fact with
# other names and figures, and two facts that share only a city and a year.
ARTICLES = {
    "bridge_en.txt": (
        "Rotterdam Opens A Cycling Bridge Over The Maas\n\n"
        "Rotterdam opened the Van Brienenoord cycling bridge on Friday: 820 metres long, built by "
        "Van Hattum for 95 million euros.\nThe city expects 30,000 cyclists to cross it every day.\n"
    ),
    "bridge_id.txt": (
        "Rotterdam Membuka Jembatan Sepeda di Atas Sungai Maas\n\n"
        "Rotterdam membuka jembatan sepeda Van Brienenoord pada hari Jumat: panjangnya 820 meter, "
        "dibangun oleh Van Hattum dengan biaya 95 juta euro.\n"
        "Pemerintah kota memperkirakan 30.000 pesepeda melintasinya setiap hari.\n"
    ),
    "tunnel.txt": (
        "Utrecht Plans A Cycling Tunnel\n\n"
        "Utrecht will dig a cycling tunnel of 400 metres under its central station, the city council "
        "decided on Tuesday.\nWork starts next spring and should take two years.\n"
    ),
    "beras.txt": (
        "Harga Beras Naik di Surabaya\n\n"
        "Harga beras medium di Surabaya naik menjadi Rp 14.000 per kilogram pekan ini.\n"
        "Pedagang di Pasar Wonokromo menyebut pasokan dari Lamongan berkurang karena banjir.\n"
    ),
    "nvidia.txt": (
        "Nvidia Opens An Office In Jakarta\n\n"
        "Nvidia opened an office in Jakarta in 2025 with 200 engineers, its first in Southeast Asia.\n"
    ),
    "grab.txt": (
        "Grab Moves Its Headquarters\n\n"
        "Grab moved its regional headquarters to Jakarta in 2025, bringing 3,000 staff from Singapore.\n"
    ),
}
BRIDGE_EN = "How long is the new cycling bridge in Rotterdam?"
BRIDGE_ID = "Berapa panjang jembatan sepeda baru di Rotterdam?"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, embedder):
    """A real index over ARTICLES: (the folder holding seeds/ and index/, the engine)."""
    tmp = tmp_path_factory.mktemp("tiny-search")
    (tmp / "seeds").mkdir()
    for name, text in ARTICLES.items():
        (tmp / "seeds" / name).write_text(text, encoding="utf-8")
    return tmp, Engine.open(make_settings(tmp), embedder=embedder)


def sources(engine: Engine, embedder, question: str, k: int, params: SearchParams = SearchParams()) -> list[str]:
    result = search(engine.data, embedder.query(question), question, k, params)
    return [engine.data.passages[h.index].source for h in result.hits]


# --- score normalization and fusion, on small arrays ---------------------------------


def test_norm_maps_onto_zero_to_one():
    assert np.allclose(_norm(np.array([2.0, 4.0, 3.0])), [0.0, 1.0, 0.5])
    assert np.allclose(_norm(np.array([-1.0, 1.0, 0.0])), [0.0, 1.0, 0.5])


@pytest.mark.parametrize("scores", [[], [0.7], [3.0, 3.0, 3.0], [1.0, 1.0 + 1e-12], [0, 0, 0]])
def test_norm_is_all_zeros_when_scores_tell_nothing_apart(scores):
    out = _norm(np.array(scores))
    assert out.shape == (len(scores),) and out.dtype.kind == "f" and not out.any()


def test_convex_fusion_weighs_normalized_scores():
    dense, bm25 = np.array([0.9, 0.5, 0.1]), np.array([0.0, 10.0, 5.0])
    fused = fuse(dense, bm25, SearchParams(lexical_weight=0.3))
    assert np.allclose(fused, [0.7, 0.65, 0.15])
    assert np.allclose(fuse(dense, bm25, SearchParams(lexical_weight=0.0)), [1.0, 0.5, 0.0])


def test_convex_fusion_keeps_ties_and_ignores_a_bm25_that_knows_no_word():
    dense = np.array([0.4, 0.8, 0.8, 0.2])
    fused = fuse(dense, np.zeros(4), SearchParams(lexical_weight=0.3))
    assert fused[1] == fused[2]
    assert np.allclose(fused, 0.7 * _norm(dense))


def test_rrf_fuses_ranks_and_equal_scores_share_a_rank():
    dense, bm25 = np.array([0.9, 0.2, 0.5]), np.array([0.0, 3.0, 3.0])
    # dense ranks 1, 3, 2; BM25 ranks 3, 1, 1 (a tie shares the better rank)
    fused = fuse(dense, bm25, SearchParams(fusion="rrf", lexical_weight=0.5))
    expected = _norm(np.array([1 / 61 + 1 / 63, 1 / 63 + 1 / 61, 1 / 62 + 1 / 61]))
    assert np.allclose(fused, expected)
    assert fused[0] == fused[1] < fused[2] == 1.0


def test_rrf_with_a_bm25_that_knows_no_word_keeps_the_dense_order():
    dense = np.array([0.1, 0.9, 0.5, 0.3])
    for weight in (0.3, 0.5):
        fused = fuse(dense, np.zeros(4), SearchParams(fusion="rrf", lexical_weight=weight))
        assert list(np.argsort(-fused)) == [1, 2, 3, 0]
        assert len(set(fused.tolist())) == 4  # no tie made up from the candidates' order


# --- anchors: what a fact keeps in another language ----------------------------------


def test_anchors_are_names_and_figures_shared_across_languages():
    english = anchors(ARTICLES["bridge_en.txt"].split("\n\n")[1].split("\n")[0])
    indonesian = anchors(ARTICLES["bridge_id.txt"].split("\n\n")[1].split("\n")[0])
    assert english == {"van", "brienenoord", "friday", "820", "hattum", "95"}
    assert indonesian == {"van", "brienenoord", "jumat", "820", "hattum", "95"}


def test_anchors_keep_figures_whole_and_skip_capitals_that_open_a_sentence():
    assert anchors("Harga beras naik menjadi Rp 14.000, kata Budi.") == {"rp", "14.000", "budi"}
    assert anchors("Meta will deploy 1,3 million GPUs. Then Zuckerberg spoke.") == {"1,3", "gpus", "zuckerberg"}
    assert anchors("prices rose 24-40 percent in 2025.") == {"24", "40", "2025"}
    assert anchors("") == set()


# --- same-fact folding, on a tiny real index ------------------------------------------


@pytest.mark.parametrize(("question", "first"), [(BRIDGE_EN, "bridge_en.txt"), (BRIDGE_ID, "bridge_id.txt")])
def test_the_same_fact_in_two_languages_is_cited_once(tiny, embedder, question, first):
    _, engine = tiny
    folded = sources(engine, embedder, question, 4)
    unfolded = sources(engine, embedder, question, 4, SearchParams(fold_same_facts=False))
    assert folded[0] == unfolded[0] == first  # the question's own language ranks first
    assert {"bridge_en.txt", "bridge_id.txt"} <= set(unfolded)
    assert len({"bridge_en.txt", "bridge_id.txt"} & set(folded)) == 1
    assert "tunnel.txt" in folded  # the same topic with other names and figures is another fact
    assert len(folded) == 4  # the freed place goes to the next passage


def test_facts_sharing_only_a_city_and_a_year_are_not_folded(tiny, embedder):
    _, engine = tiny
    found = sources(engine, embedder, "Which companies moved to Jakarta in 2025?", 3)
    assert {"grab.txt", "nvidia.txt"} <= set(found)


# --- BM25 within each language ----------------------------------------------------------


def test_each_article_is_indexed_with_the_language_it_is_written_in(tiny):
    _, engine = tiny
    rows = np.arange(len(engine.data.passages))
    by_source = dict(
        zip((engine.data.passages[i].source for i in rows), article_languages(engine.data, rows), strict=True)
    )
    assert by_source == {
        "bridge_en.txt": "en",
        "bridge_id.txt": "id",
        "tunnel.txt": "en",
        "beras.txt": "id",
        "nvidia.txt": "en",
        "grab.txt": "en",
    }


def test_bm25_is_also_compared_within_each_language(tiny):
    _, engine = tiny
    data, question = engine.data, "Van Brienenoord bridge 820 metres Rotterdam"
    cand = np.arange(len(data.passages))
    bm25 = data.lexicon.scores(question, cand)
    langs = np.array(article_languages(data, cand))
    alone = lexical_scores(data, question, cand, SearchParams(language_share=0))
    assert np.array_equal(alone, _norm(bm25))
    mixed = lexical_scores(data, question, cand, SearchParams(language_share=0.5))
    for lang in ("en", "id"):  # the best of each language reaches at least the share given to it
        mine = langs == lang
        assert mixed[mine].max() >= 0.5 - 1e-9
    indonesian = int(np.flatnonzero(langs == "id")[np.argmax(bm25[langs == "id"])])
    assert mixed[indonesian] > alone[indonesian]  # it shares only names and figures, yet leads its language
    # in one language the scores are exactly those compared over all candidates
    english = np.flatnonzero(langs == "en")
    assert np.array_equal(lexical_scores(data, question, english, SearchParams()), _norm(bm25[english]))


def test_an_index_that_does_not_know_a_language_compares_bm25_over_all(tiny, monkeypatch):
    _, engine = tiny
    data, question = engine.data, "Van Brienenoord bridge 820 metres Rotterdam"
    cand = np.arange(len(data.passages))
    langs = article_languages(data, cand)
    monkeypatch.setattr(
        search_module, "article_languages", lambda *_: ["", *langs[1:]]
    )  # one article from an older index
    assert np.array_equal(
        lexical_scores(data, question, cand, SearchParams()), _norm(data.lexicon.scores(question, cand))
    )


# --- the engine's follower filter -----------------------------------------------------


def test_passages_after_the_first_need_their_own_relevance(tiny, embedder):
    """A question without a short answer: followers are shown exactly when they clear the line."""
    _, engine = tiny
    question = "What did Rotterdam open over the Maas?"
    hits = search(engine.data, embedder.query(question), question, 3).hits
    answer = engine.ask(question)
    assert answer.answered and answer.passages[0].source == "bridge_en.txt"
    expected = [engine.data.passages[h.index].source for h in hits[1:] if h.relevance >= FOLLOWER_RELEVANCE]
    assert [c.source for c in answer.passages[1:]] == expected
