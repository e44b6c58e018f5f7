"""The engine every platform calls: a loaded model and index, and `ask`."""

from __future__ import annotations

import logging
import threading
import time

from bot.core import messages
from bot.core.errors import IndexCorrupt, IndexWriteError
from bot.core.models import Answer, IndexReport
from bot.core.settings import Settings
from bot.retrieval import answering, questions, trust
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.embedding import Embedder, load_embedder
from bot.retrieval.indexing import is_fresh, list_seeds, update_index
from bot.retrieval.search import SearchParams, search
from bot.retrieval.store import FORMAT_VERSION, IndexData, load_index, read_manifest

log = logging.getLogger(__name__)


class Engine:
    def __init__(
        self,
        config: RetrievalConfig,
        embedder: Embedder,
        data: IndexData | None = None,
        params: SearchParams = SearchParams(),
    ):
        self.config = config
        self.embedder = embedder
        self.params = params
        self._data = data
        self._index_lock = threading.Lock()  # one index update at a time in this process
        # the decline threshold on trust.Verdict.score: a margin of similarity over the off-topic
        # line each index calibrates for itself at build time, so one number holds for any archive
        self.min_relevance = trust.DEFAULT_THRESHOLD if config.min_relevance is None else config.min_relevance

    @classmethod
    def open(cls, settings: Settings, progress: bool = False, embedder: Embedder | None = None) -> Engine:
        """Load the model and the index, building or updating the index if the seeds changed.

        If the update cannot be written (a read-only folder, a full disk), the old index
        answers, with a warning; IndexWriteError only when there is no usable index at all.
        """
        config = RetrievalConfig.from_settings(settings)
        engine = cls(config, embedder or load_embedder(config.embedding_model))
        engine.refresh(progress=progress, keep_old_on_failure=True)
        return engine

    @property
    def data(self) -> IndexData | None:
        return self._data

    @property
    def passage_count(self) -> int:
        return len(self._data.passages) if self._data else 0

    def refresh(
        self, progress: bool = False, force: bool = False, keep_old_on_failure: bool = False
    ) -> IndexReport | None:
        """Update the index if it is missing, damaged or stale; None if it was already fresh.

        The new index is swapped in with one assignment, so questions being answered
        meanwhile keep using the old one. With keep_old_on_failure, an index that cannot
        be written leaves the old one answering: the report then carries the warning.
        """
        with self._index_lock:
            newest = self._newest_on_disk()
            if not force and newest is not None and self._matches_seeds(newest):
                self._data = newest
                return None
            try:
                data, report = update_index(self.config, self.embedder, self._data, force=force, progress=progress)
            except IndexWriteError as exc:
                usable = [d for d in (newest, self._data) if d is not None and self._can_answer_from(d)]
                if not keep_old_on_failure or not usable:
                    raise
                return self._keep(usable[0], exc)
            self._data = data
            return report

    def _matches_seeds(self, data: IndexData) -> bool:
        return is_fresh(data.manifest, self.config, self.embedder.name, list_seeds(self.config))

    def _can_answer_from(self, data: IndexData) -> bool:
        """An old index is still usable if its vectors come from this model (older chunking is fine)."""
        return (
            data.manifest.get("format_version") == FORMAT_VERSION and data.manifest.get("model") == self.embedder.name
        )

    def _newest_on_disk(self) -> IndexData | None:
        """The index in memory, or the one on disk if another process replaced it; None if unreadable."""
        try:
            manifest = read_manifest(self.config.index_dir)
            if manifest is None:
                return None
            if self._data is not None and manifest.get("built_at") == self._data.manifest.get("built_at"):
                return self._data
            return load_index(self.config.index_dir)
        except IndexCorrupt:
            return None  # the update names the damage, under the write lock

    def _keep(self, usable: IndexData, problem: IndexWriteError) -> IndexReport:
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(usable.built_at)) if usable.built_at else "earlier"
        warning = messages.INDEX_KEPT_OLD.format(passages=len(usable.passages), built=built, problem=problem)
        log.warning(warning)
        self._data = usable
        return IndexReport(passages=len(usable.passages), warnings=(warning,))

    def ask(self, question: str) -> Answer:
        question = " ".join(question.split())
        if not question:
            return Answer(question, False, reason="empty")
        if len(question) > self.config.max_question_chars:
            return Answer(question, False, reason="too_long")
        data = self._data  # one snapshot for the whole question
        if data is None:
            raise RuntimeError("the index is not loaded")
        asked = questions.analyze(question)
        qvec = self.embedder.query(question)
        result = search(data, qvec, question, self.config.top_k, self.params)
        verdict = trust.judge(asked, result, data, self.min_relevance)
        if not verdict.covered:
            return Answer(question, False, reason="not_covered", lang=asked.lang, confidence=verdict.score)
        composed = answering.compose(asked, result, data)
        return Answer(
            question, True, composed.citations, lang=asked.lang, short=composed.short, confidence=verdict.score
        )
