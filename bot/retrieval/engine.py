"""The engine every platform calls: a loaded model and index, and `ask`.

Several processes can share one index folder (replicas behind a load balancer, a separate
`newsbot index` job): each question first calls `maybe_reload`, which looks where the
index's `current` link points at most every RELOAD_CHECK_SECONDS (one readlink) and, when
another process made a new generation current, loads it in a background thread. The
question that noticed it, and any asked while it loads, are answered from the index already
in memory; the next ones from the new generation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from bot.core import messages
from bot.core.errors import IndexCorrupt, IndexWriteError
from bot.core.models import Answer, IndexReport
from bot.core.settings import Settings
from bot.retrieval import answering, lexical, questions, trust
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.embedding import Embedder, load_embedder
from bot.retrieval.indexing import files_unchanged, seeds_unchanged, update_index
from bot.retrieval.search import Result, SearchParams, search
from bot.retrieval.store import FORMAT_VERSION, IndexData, generation_of, load_current, load_index

log = logging.getLogger(__name__)

RELOAD_CHECK_SECONDS = 5.0  # how often a question looks for a generation made current by another process


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
        self._reload_lock = threading.Lock()  # one background load of another process's generation at a time
        self._next_check = time.monotonic() + RELOAD_CHECK_SECONDS
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
        manifest, name = data.manifest, self.embedder.name
        if self.config.seeds_check == "folders" and seeds_unchanged(manifest, self.config, name):
            return True
        return files_unchanged(manifest, self.config, name)

    def _can_answer_from(self, data: IndexData) -> bool:
        """An old index is still usable if its vectors come from this model (older chunking is fine)."""
        return (
            data.manifest.get("format_version") == FORMAT_VERSION and data.manifest.get("model") == self.embedder.name
        )

    def _newest_on_disk(self) -> IndexData | None:
        """The index in memory, or the one on disk if another process replaced it; None if unreadable."""
        try:
            return load_current(self.config.index_dir, self._data)
        except IndexCorrupt:
            return None  # the update names the damage, under the write lock

    def maybe_reload(self) -> threading.Thread | None:
        """Start loading the generation another process made current, if any; the loading thread, or None.

        Cheap enough for every question: at most one readlink every RELOAD_CHECK_SECONDS.
        The new index is swapped in when loaded, unless this process changed its own meanwhile;
        one that cannot be read, or comes from another model, is logged and left alone.
        """
        now = time.monotonic()
        data = self._data
        if now < self._next_check or data is None or data.folder is None:
            return None
        self._next_check = now + RELOAD_CHECK_SECONDS
        name = generation_of(self.config.index_dir)
        if not name or name == data.generation or not self._reload_lock.acquire(blocking=False):
            return None
        thread = threading.Thread(target=self._reload, args=(data,), name="newsbot-reload", daemon=True)
        thread.start()
        return thread

    def _reload(self, seen: IndexData) -> None:
        try:
            try:
                loaded = load_index(self.config.index_dir)
            except IndexCorrupt as exc:
                log.warning(messages.INDEX_RELOAD_FAILED.format(path=self.config.index_dir, detail=exc))
                return
            if loaded is None or not self._can_answer_from(loaded):
                return
            with self._index_lock:
                if self._data is seen:  # else this process updated its index meanwhile: that one stays
                    self._data = loaded
                    log.info(messages.INDEX_RELOADED.format(name=loaded.generation, passages=len(loaded.passages)))
        finally:
            self._reload_lock.release()

    def _keep(self, usable: IndexData, problem: IndexWriteError) -> IndexReport:
        built = time.strftime("%Y-%m-%d %H:%M", time.localtime(usable.built_at)) if usable.built_at else "earlier"
        warning = messages.INDEX_KEPT_OLD.format(passages=len(usable.passages), built=built, problem=problem)
        log.warning(warning)
        self._data = usable
        return IndexReport(passages=len(usable.passages), warnings=(warning,))

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        """Answer `question`; `history` holds the thread's earlier questions, oldest first.

        A follow-up is searched together with them when it leans on them (see `explain`);
        `Answer.question` stays the question as asked.
        """
        question = " ".join(question.split())
        if not question:
            return Answer(question, False, reason="empty")
        if len(question) > self.config.max_question_chars:
            return Answer(question, False, reason="too_long")
        found = self.explain(question, history)
        asked, verdict = found.asked, found.verdict
        if not verdict.covered:
            return Answer(question, False, reason="not_covered", lang=asked.lang, confidence=verdict.score)
        spare = (lambda: found.wider().spare) if found.wider else None
        composed = answering.compose(asked, found.result, found.data, spare)
        return Answer(
            question, True, composed.citations, lang=asked.lang, short=composed.short, confidence=verdict.score
        )

    def explain(self, question: str, history: Sequence[str] = ()) -> Found:
        """What was searched, what was found and whether it covers the question.

        With earlier questions, the question is searched alone and together with the last
        few of them, and `_in_context` picks by evidence: a question that names nothing of its
        own ("and how old is he?") takes the thread's topic, a self-contained one ("what did
        Mistral raise?") keeps its own unless only the thread's topic finds it an answer.
        """
        self.maybe_reload()
        data = self._data  # one snapshot for the whole question
        if data is None:
            raise RuntimeError("the index is not loaded")
        asked = questions.analyze(question)
        alone = self._find(data, asked)
        earlier = tuple(e for e in (" ".join(h.split()) for h in history) if e)[-MAX_EARLIER:]
        if not earlier:
            return alone
        joint = self._find(data, questions.follow_up(asked, earlier))
        return joint if _in_context(alone, joint) else alone

    def _find(self, data: IndexData, asked: questions.Question) -> Found:
        text = asked.searched
        qvec = self.embedder.query(text)
        result = search(data, qvec, text, self.config.top_k, self.params, asked)
        result = trust.role_first(asked, result, data)
        deeper = partial(search, data, qvec, text, trust.DEEPER, self.params, asked)
        result = trust.further_down(asked, result, data, deeper)
        wider = partial(search, data, qvec, text, self.config.top_k, self.params, asked, answering.FOLLOWER_SPARE)
        return Found(asked, result, trust.judge(asked, result, data, self.min_relevance), data, wider)


# Earlier questions searched with a follow-up: the last two, so a long thread's first topic fades.
MAX_EARLIER = 2


@dataclass(frozen=True)
class Found:
    asked: questions.Question
    result: Result
    verdict: trust.Verdict
    data: IndexData
    # the same search with spare hits after the shown ones (answering.FOLLOWER_SPARE), run only
    # when a later hit turns out to be about something else
    wider: Callable[[], Result] | None = None

    def mentions(self, words: tuple[str, ...]) -> bool:
        """Whether the best passage found says one of `words` (names as written, terms as tokens)."""
        if not self.result.hits:
            return False
        p = self.data.passages[self.result.hits[0].index]
        text = f"{p.title}\n{p.text}"
        tokens = set(lexical.tokens(text))
        folded = text.casefold()
        return any(w.casefold() in folded or w in tokens for w in words)


def _in_context(alone: Found, joint: Found) -> bool:
    """Whether a follow-up is answered from the search with the thread's earlier questions.

    - It names nothing of its own and points back ("how old is he?", "berapa umurnya?"): yes.
    - It points back but names something ("what about Mistral?"): if the passage found with
      the thread still says what it names (the thread's topic did not drown the new name).
    - It stands alone: only if alone it is declined, with the thread it is covered, and the
      passage found says one of its own words: the thread's topic won, on evidence.
    """
    own = alone.asked
    if questions.refers_back(own):
        return not own.names or joint.mentions(own.names)
    return not alone.verdict.covered and joint.verdict.covered and joint.mentions((*own.names, *own.terms))
