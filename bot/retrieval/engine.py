"""The engine every platform calls: a loaded model and index, and `ask`."""

from __future__ import annotations

import logging
import threading

from bot.core import messages
from bot.core.errors import IndexCorrupt
from bot.core.models import Answer, Citation, IndexReport
from bot.core.settings import Settings
from bot.retrieval.embedding import Embedder, load_embedder
from bot.retrieval.indexing import is_fresh, update_index
from bot.retrieval.loading import list_seed_files
from bot.retrieval.search import SearchParams, search
from bot.retrieval.store import IndexData, load_index, read_manifest

log = logging.getLogger(__name__)

# Relevance is how far the question's best-matching sentence stands above the median
# sentence of the index (cosine similarity). Below this, the articles do not cover the
# question. Calibrated per model on the development set (docs/quality.md).
DEFAULT_MIN_RELEVANCE = {"multilingual-e5-small": 0.05}
FALLBACK_MIN_RELEVANCE = 0.15
# Passages after the first are quoted only if their own best sentence reaches this share
# of the threshold: fewer filler citations, no loss on the development set (docs in README).
FOLLOWER_SHARE = 0.5


class Engine:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        data: IndexData | None = None,
        params: SearchParams = SearchParams(),
    ):
        self.settings = settings
        self.embedder = embedder
        self.params = params
        self._data = data
        self._index_lock = threading.Lock()  # one index update at a time
        if settings.min_relevance is not None:
            self.min_relevance = settings.min_relevance
        else:
            self.min_relevance = DEFAULT_MIN_RELEVANCE.get(embedder.name, FALLBACK_MIN_RELEVANCE)

    @classmethod
    def open(cls, settings: Settings, progress: bool = False, embedder: Embedder | None = None) -> Engine:
        """Load the model and the index, building or updating the index if the seeds changed."""
        engine = cls(settings, embedder or load_embedder(settings.embedding_model))
        engine.refresh(progress=progress)
        return engine

    @property
    def data(self) -> IndexData | None:
        return self._data

    @property
    def passage_count(self) -> int:
        return len(self._data.passages) if self._data else 0

    def refresh(self, progress: bool = False, force: bool = False) -> IndexReport | None:
        """Update the index if it is missing, damaged or stale; None if it was already fresh.

        The new index is swapped in with one assignment, so questions being answered
        meanwhile keep using the old one.
        """
        with self._index_lock:
            damaged = ""
            current = self._data
            try:
                if current is None:
                    current = load_index(self.settings.index_dir)
                manifest = read_manifest(self.settings.index_dir)
            except IndexCorrupt as exc:
                damaged = str(exc)
                log.warning(messages.INDEX_DAMAGED.format(path=self.settings.index_dir, detail=exc))
                current, manifest = None, None
            seeds = list_seed_files(self.settings.seeds_dir)
            if not force and current is not None and is_fresh(manifest, self.settings, self.embedder.name, seeds):
                if manifest.get("built_at") != current.manifest.get("built_at"):
                    current = load_index(self.settings.index_dir)  # another process updated it
                self._data = current
                return None
            data, report = update_index(
                self.settings,
                self.embedder,
                current,
                progress=progress,
                rebuilt_because=f"damaged index: {damaged}" if damaged else "",
            )
            self._data = data
            return report

    def ask(self, question: str) -> Answer:
        question = " ".join(question.split())
        if not question:
            return Answer(question, False, reason="empty")
        if len(question) > self.settings.max_question_chars:
            return Answer(question, False, reason="too_long")
        data = self._data  # one snapshot for the whole question
        if data is None:
            raise RuntimeError("the index is not loaded")
        qvec = self.embedder.query(question)
        result = search(data, qvec, question, self.settings.top_k, self.params)
        if not result.hits or result.relevance < self.min_relevance:
            return Answer(question, False, reason="not_covered")
        # after the best passage, only passages that are relevant in their own right
        hits = [result.hits[0], *(h for h in result.hits[1:] if h.relevance >= FOLLOWER_SHARE * self.min_relevance)]
        citations = []
        for rank, hit in enumerate(hits, start=1):
            p = data.passages[hit.index]
            a, b = hit.highlight
            citations.append(Citation(rank, p.source, p.title, p.text, p.text[a:b], round(hit.score, 4)))
        return Answer(question, True, tuple(citations))
