"""Where "off topic" lies in this index: measured at index time with probe questions.

How similar the best passage found for a question is depends on the archive as much as on
the question: its languages, its topics, how long and how alike its passages are. A fixed
threshold holds for one archive only (the old one, on the best sentence minus the index
median, moved when 1,200 unrelated sentences lowered the median). So each index build asks
a bank of everyday questions that no news archive answers (PROBES: cooking,
geography, nature, in English, Indonesian and Spanish) and records in the manifest the
median similarity of the best passage they find. `trust.judge` measures a question against
that line, so a bigger or different archive recalibrates itself.

The probe vectors depend only on the model: they are embedded once per process, and
indexing keeps them in each generation (`probes.npy`) so that a new process does not embed
them again. Bump store.FORMAT_VERSION when the bank changes: every index then recalibrates.

When it is recomputed: an update that changes few passages barely moves where off-topic
questions land, and asking the 40 probes costs seconds. So the calibration records how many
passages it was measured on (`passages`) and how many were added or removed since
(`changed`, summed over the updates that kept it); an update recalibrates once that sum
would exceed RECALIBRATE_FRACTION of `passages`, and always when the bank, the model
or `k` changed or the index is rebuilt.
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
RECALIBRATE_FRACTION = 0.05
_lock = threading.Lock()
_vectors: dict[tuple[str, str], np.ndarray] = {}  # (model, bank digest) -> probe vectors


def _bank_digest(probes: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join(probes).encode("utf-8")).hexdigest()[:12]


def bank_digest() -> str:
    """Of the probe bank in use: probe vectors or a calibration from another bank are not reused."""
    return _bank_digest(PROBES)


def _probe_vectors(embedder: Embedder, probes: tuple[str, ...], digest: str) -> np.ndarray:
    key = (embedder.name, digest)
    with _lock:
        if key not in _vectors:
            _vectors[key] = np.stack([embedder.query(q) for q in probes])
        return _vectors[key]


def probe_vectors(embedder: Embedder, stored: np.ndarray | None = None) -> np.ndarray:
    """The bank's vectors: `stored` (kept with the index, same model and bank) when it fits, else embedded."""
    if stored is not None and stored.shape == (len(PROBES), embedder.dim):
        return stored
    return _probe_vectors(embedder, PROBES, _bank_digest(PROBES))


def calibrate(
    data: IndexData,
    embedder: Embedder,
    k: int = 3,
    params: SearchParams = SearchParams(),
    vectors: np.ndarray | None = None,
) -> dict:
    """The manifest's `calibration` entry: what the probe questions reach in this index.

    `vectors`: the probe vectors kept from an earlier build of the same model (see `probe_vectors`).
    """
    started = time.perf_counter()
    probes = PROBES
    digest = _bank_digest(probes)
    vectors = probe_vectors(embedder, vectors)
    reached = np.array([similarity(search(data, v, q, k, params)) for q, v in zip(probes, vectors, strict=True)])
    return {
        "method": METHOD,
        "probes": len(probes),
        "bank": digest,
        "offtopic_median": round(float(np.median(reached)), 6),
        "offtopic_p90": round(float(np.percentile(reached, 90)), 6),
        "seconds": round(time.perf_counter() - started, 3),
        "k": k,
        "passages": len(data.passages),
        "changed": 0,
    }


def carried(previous: dict | None, passages: int, changed: int, k: int) -> dict | None:
    """The previous calibration with `changed` added, if it still holds (see the module docstring); else None."""
    if not previous or previous.get("method") != METHOD or previous.get("bank") != _bank_digest(PROBES):
        return None
    if previous.get("k") != k or not previous.get("passages") or not passages:
        return None
    total = int(previous.get("changed", 0)) + changed
    if total > RECALIBRATE_FRACTION * int(previous["passages"]):
        return None
    return {**previous, "changed": total}


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
    line = messages.CALIBRATION_LINE.format(
        probes=cal["probes"], median=cal["offtopic_median"], seconds=cal.get("seconds", 0.0)
    )
    if cal.get("changed"):
        line += " " + messages.CALIBRATION_KEPT.format(
            changed=cal["changed"], passages=cal["passages"], limit=f"{RECALIBRATE_FRACTION:.0%}"
        )
    return line
