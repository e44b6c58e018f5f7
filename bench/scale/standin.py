"""A fast stand-in embedder: vectors drawn around real embeddings, so FAISS, BM25 and the store do real work.

The bundled e5 model embeds ~6 passages a second on this machine: 100k passages (and
their ~280k sentences) would take most of a day. The stand-in gives every text a vector
near one of a few hundred real e5 passage embeddings (picked by a hash of the text) plus
a hashed random offset, normalized: deterministic, ~10 µs a text, distributed like real
embeddings at the scale of the anchors (a shared direction, topic clusters). It says
nothing about answer quality or ANN recall (see real_vectors.py for that); every figure
measured with it is labelled `standin`, and the embedding time it saves is added back
from the real model's measured per-text cost ("projected").
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

NOISE_ROWS = 4096
SIGMA = 0.5  # a vector's cosine to its anchor ~0.9, like near neighbours in real e5 space


class StandIn:
    def __init__(self, anchors: np.ndarray, seed: int = 0) -> None:
        self.anchors = np.ascontiguousarray(anchors, dtype=np.float32)
        self.dim = int(self.anchors.shape[1])
        self.name = f"bench-standin-{len(self.anchors)}-anchors"
        noise = np.random.default_rng(seed).normal(size=(NOISE_ROWS, self.dim)).astype(np.float32)
        self.noise = noise / np.linalg.norm(noise, axis=1, keepdims=True)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        h = np.array(
            [np.frombuffer(hashlib.blake2b(t.encode(), digest_size=12).digest(), dtype=np.uint32) for t in texts]
        )
        v = self.anchors[h[:, 0] % len(self.anchors)] + SIGMA * (
            self.noise[h[:, 1] % NOISE_ROWS] + self.noise[h[:, 2] % NOISE_ROWS]
        ) / np.sqrt(2)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    def query(self, text: str) -> np.ndarray:
        return self.passages([text])[0]
