"""Where "off topic" lies in this index: measured at index time with probe questions.

How similar the best passage found for a question is depends on the archive as much as on
the question: its languages, its topics, how long and how alike its passages are. A fixed
threshold holds for one archive only (the old one, on the best sentence minus the index
median, moved when 1,200 unrelated sentences lowered the median). So each index build asks
a bank of everyday questions that no news archive answers (PROBES: cooking,
geography, nature, in English, Indonesian and Spanish) and records in the manifest the
median similarity of the best passage they find. `trust.judge` measures a question against
that line, so a bigger or different archive recalibrates itself.

The probe vectors depend only on the model, so they are embedded once per process.
Bump store.FORMAT_VERSION when the bank changes: every index then recalibrates.
"""

from __future__ import annotations

import hashlib
import threading
import time

import numpy as np

from bot.core import messages
from bot.retrieval.embedding import Embedder
from bot.retrieval.search import Result, SearchParams, search
from bot.retrieval.store import IndexData

METHOD = "off-topic probe questions"
# Everyday questions no news archive answers, in the languages people ask in (English,
# Indonesian, Spanish). Kept off business, technology and energy on purpose: a probe must
# stay off topic for any news archive. Changing the bank: bump store.FORMAT_VERSION.
PROBES: tuple[str, ...] = (
    "What is the boiling point of water at sea level?",
    "How do I bake sourdough bread at home?",
    "Who wrote the novel Pride and Prejudice?",
    "What is the capital of Canada?",
    "How many legs does a spider have?",
    "When did the first person walk on the Moon?",
    "What is the best way to learn the guitar?",
    "Which planet is closest to the Sun?",
    "How do I remove a red wine stain from a carpet?",
    "Who painted the Mona Lisa?",
    "How tall is Mount Kilimanjaro?",
    "What are the symptoms of the common cold?",
    "How long should I boil an egg?",
    "Why do cats purr?",
    "What should I pack for a beach holiday?",
    "How do bees make honey?",
    "Bagaimana cara membuat kue lapis legit?",
    "Siapa penemu bola lampu?",
    "Berapa tinggi Gunung Semeru?",
    "Kapan Candi Prambanan dibangun?",
    "Apa ibu kota Jepang?",
    "Bagaimana cara merawat tanaman anggrek?",
    "Berapa jumlah pemain dalam satu tim bola voli?",
    "Di mana letak Danau Toba?",
    "Apa manfaat minum air putih setiap hari?",
    "Siapa pengarang novel Bumi Manusia?",
    "Bagaimana cuaca di Bandung besok pagi?",
    "Apa makanan khas Palembang?",
    "Mengapa langit berwarna biru?",
    "Bagaimana cara mencuci sepatu putih?",
    "Hewan apa yang paling cepat berlari?",
    "Kapan musim hujan dimulai di Jawa?",
    "¿Cuál es la capital de Argentina?",
    "¿Cómo se prepara una paella?",
    "¿Quién escribió Don Quijote?",
    "¿Cuántos huesos tiene el cuerpo humano?",
    "¿Por qué las hojas cambian de color en otoño?",
    "¿Qué tiempo hará mañana en Sevilla?",
    "¿Cómo se cuida un gato recién nacido?",
    "¿Dónde nace el río Amazonas?",
)
_lock = threading.Lock()
_vectors: dict[tuple[str, str], np.ndarray] = {}  # (model, bank digest) -> probe vectors


def _bank_digest(probes: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(probes).encode("utf-8")).hexdigest()[:12]


def _probe_vectors(embedder: Embedder, probes: tuple[str, ...], digest: str) -> np.ndarray:
    key = (embedder.name, digest)
    with _lock:
        if key not in _vectors:
            _vectors[key] = np.stack([embedder.query(q) for q in probes])
        return _vectors[key]


def calibrate(data: IndexData, embedder: Embedder, k: int = 3, params: SearchParams = SearchParams()) -> dict:
    """The manifest's `calibration` entry: what the probe questions reach in this index."""
    started = time.perf_counter()
    probes = PROBES
    digest = _bank_digest(probes)
    vectors = _probe_vectors(embedder, probes, digest)
    reached = np.array([similarity(search(data, v, q, k, params)) for q, v in zip(probes, vectors, strict=True)])
    return {
        "method": METHOD,
        "probes": len(probes),
        "bank": digest,
        "offtopic_median": round(float(np.median(reached)), 6),
        "offtopic_p90": round(float(np.percentile(reached, 90)), 6),
        "seconds": round(time.perf_counter() - started, 3),
    }


def similarity(result: Result) -> float:
    """How close the best passage found is to the question (cosine); -1 when nothing was found."""
    return max((hit.score for hit in result.hits), default=-1.0)


def offset(manifest: dict) -> float:
    """The similarity off-topic questions reach in this index; 0 for an index built without calibration."""
    return float((manifest.get("calibration") or {}).get("offtopic_median", 0.0))


def describe(manifest: dict) -> str:
    """One line for `newsbot index`: what calibration the index carries."""
    cal = manifest.get("calibration")
    if not cal:
        return messages.CALIBRATION_NONE
    return messages.CALIBRATION_LINE.format(
        probes=cal["probes"], median=cal["offtopic_median"], seconds=cal.get("seconds", 0.0)
    )
