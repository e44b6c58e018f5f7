"""What Discord and Slack share beyond one question: thread memory, votes, channel modes, admin status.

Everything remembered lives in the shared store (`bot.state.api.Store`), so any replica can
answer the next turn of a thread or count a vote once. The store is blocking: every call
runs in a thread. A store that fails never stops an answer: the question is answered as a
first question, and the failure is logged. Without a store (the CLI, tests of old) nothing
is remembered: no threads, votes or channel modes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone

from bot.core import messages
from bot.core.models import Reply
from bot.platforms.reply import format_date
from bot.serving.dispatch import Dispatcher, user_hash
from bot.state.api import ChannelMode, Store, Verdict

log = logging.getLogger("newsbot.conversation")

MODES: tuple[ChannelMode, ...] = ("mention", "all")
LANGS = ("en", "id")  # the languages the bot speaks (messages.INDONESIAN)
# A vote's "seen before" mark lives as long as the store keeps an unvoted answer (sql.open_store).
VOTE_MEMORY_SECONDS = 30 * 86400.0
FeedHealth = Callable[[], Mapping[str, Mapping]]  # bot.ingest.feeds.FeedPoller.health

# How questions start in the two languages the bot speaks; a message ending in "?" is one too.
_QUESTION_START = re.compile(
    r"(?:(?:and|but|so|then|also|dan|lalu|terus|kalau|tapi|jadi)\W+)?"
    r"(who|whom|whose|what|when|where|which|why|how|is|are|was|were|do|does|did|can|could|will|would|should|"
    r"has|have|had|siapa|siapakah|apa|apakah|kapan|kapankah|di\s?mana|dimanakah|mana|mengapa|kenapa|bagaimana|"
    r"berapa|berapakah|adakah|bisakah|benarkah)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")


def new_answer_id(lang: str = "en") -> str:
    """Random, so nobody can vote on an answer they have not seen; short enough for a custom_id.

    It ends in the answer's language, so the thanks for a vote is said in it on any replica."""
    return f"{uuid.uuid4().hex[:16]}-{lang if lang in LANGS else 'en'}"


def answer_lang(answer_id: str) -> str:
    """The language an answer was given in, from its id (English for ids of another shape)."""
    lang = answer_id.rpartition("-")[2]
    return lang if lang in LANGS else "en"


def looks_like_question(text: str) -> bool:
    """Unaddressed messages (a channel set to "all", the bot's threads) are answered when they are
    questions, not remarks: a question mark at the end ("Berapa umurnya?"), or a question word first,
    English or Indonesian, in at least three words ("how old is she")."""
    text = " ".join(text.split())
    words = len(_WORD.findall(text))
    if text.endswith(("?", "？")):
        return words >= 1
    return words >= 3 and _QUESTION_START.match(text) is not None


def mode_text(mode: ChannelMode, lang: str, *, changed: bool = False) -> str:
    meaning = messages.say("MODE_ALL" if mode == "all" else "MODE_MENTION", lang)
    return messages.say("MODE_SET" if changed else "MODE_NOW", lang).format(mode=mode, meaning=meaning)


class Conversation:
    """One platform's view of the shared store, and the dispatcher questions go through."""

    def __init__(
        self,
        platform: str,
        dispatcher: Dispatcher,
        store: Store | None = None,
        *,
        feed_health: FeedHealth | None = None,
    ):
        self.platform = platform
        self.dispatcher = dispatcher
        self.store = store
        self.feed_health = feed_health

    @property
    def remembers(self) -> bool:
        return self.store is not None

    async def _store(self, method: str, *args, default=None):
        """A store call off the event loop; `default` (and a log line) if the store fails."""
        if self.store is None:
            return default
        try:
            return await asyncio.to_thread(getattr(self.store, method), *args)
        except Exception:
            log.exception("the shared store failed (%s)", method)
            return default

    # ------------------------------------------------------------ threads

    async def history(self, thread: str | None) -> tuple[str, ...]:
        """The thread's earlier questions, oldest first; () for no thread, an unknown or expired one."""
        if not thread:
            return ()
        turns = await self._store("turns", self.platform, thread, default=[])
        return tuple(t.question for t in turns)

    async def ask(self, user: str, question: str, history: Sequence[str] = ()) -> Reply:
        return await self.dispatcher.ask(self.platform, user, question, history=tuple(history))

    async def remember(self, thread: str | None, question: str, reply: Reply, earlier: Sequence[str] = ()) -> None:
        """Store an answered turn, so the thread's next question is searched with it.

        `earlier`: questions to store first, when the conversation moves to a new thread key
        (a reply to the bot's latest answer where no thread could be opened)."""
        if not thread or self.store is None or reply.kind != "answered" or reply.answer is None:
            return
        for old in earlier:
            await self._store("add_turn", self.platform, thread, old, ())
        await self._store("add_turn", self.platform, thread, question, reply.answer.sources)

    # ------------------------------------------------------------ feedback

    async def answer_id(self, question: str, reply: Reply) -> str | None:
        """A new id for an answer worth rating, recorded in the store; None without a store or buttons."""
        if self.store is None or reply.kind != "answered" or reply.answer is None or not reply.answer.passages:
            return None
        answer_id = new_answer_id(reply.answer.lang)
        recorded = await self._store(
            "record_answer", answer_id, self.platform, question, reply.answer.sources, default=False
        )
        return answer_id if recorded is not False else None

    async def vote(self, user: str, answer_id: str, verdict: Verdict) -> tuple[bool, bool]:
        """(known, changed): whether the answer is in the store, and whether this user had voted on it."""
        who = user_hash(self.platform, user)
        first = await self._store("first_time", f"vote:{answer_id}:{who}", VOTE_MEMORY_SECONDS, default=True)
        known = await self._store("vote", answer_id, who, verdict, default=None)
        if known is None:
            raise StoreUnavailable
        return bool(known), not first

    # ------------------------------------------------------------ channel modes

    async def mode(self, channel: str) -> ChannelMode:
        return await self._store("channel_mode", self.platform, channel, default="mention")

    async def set_mode(self, channel: str, mode: ChannelMode) -> None:
        """StoreUnavailable when it cannot be saved (the admin is told; nothing else changes)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if self.store is None:
            raise StoreUnavailable
        if await self._store("set_channel_mode", self.platform, channel, mode, default=False) is False:
            raise StoreUnavailable

    # ------------------------------------------------------------ status

    def status_lines(self, lang: str) -> list[str]:
        """The archive (articles, passages, last update) and, when known, each feed's health."""
        data = self.dispatcher.engine.data
        if data is None:
            lines = [messages.say("STATUS_NO_INDEX", lang)]
        else:
            articles = len(data.articles) or len({p.source for p in data.passages})
            lines = [
                messages.say("STATUS_ARCHIVE", lang).format(
                    articles=articles, passages=len(data.passages), updated=_when(data.built_at, lang)
                )
            ]
        if self.feed_health is not None:
            lines.extend(self._feed_lines(lang))
        return lines

    def _feed_lines(self, lang: str) -> list[str]:
        try:
            health = self.feed_health()
        except Exception:
            log.exception("could not read the feeds' health")
            return []
        if not health:
            return [messages.say("STATUS_FEEDS_NONE", lang)]
        lines = [messages.say("STATUS_FEEDS", lang)]
        for feed, state in health.items():
            if state.get("ok", True):
                lines.append("• " + messages.say("STATUS_FEED_OK", lang).format(feed=feed))
            else:
                lines.append(
                    "• "
                    + messages.say("STATUS_FEED_FAILING", lang).format(
                        feed=feed, failures=state.get("failures", 1), error=state.get("last_error") or "?"
                    )
                )
        return lines


class StoreUnavailable(Exception):
    """The store could not do what was asked; the person is told to try again later."""


def _when(timestamp: float, lang: str) -> str:
    if not timestamp:
        return "?"
    moment = datetime.fromtimestamp(timestamp, timezone.utc)  # datetime.UTC is 3.11+
    return f"{format_date(moment.isoformat(), lang)} {moment:%H:%M} UTC"
