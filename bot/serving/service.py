"""`newsbot serve`: every configured platform around one engine, for months unattended.

One asyncio loop runs the Discord client, the Slack app (HTTP or Socket Mode) and an
aiohttp server with /healthz, /readyz and /metrics. SIGTERM/SIGINT drain questions in
flight and exit 0; SIGHUP (and seed changes, with NEWSBOT_WATCH_SEEDS) re-index in the
background while the old index keeps answering.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.core import messages
from bot.core.errors import ConfigError, NewsbotError
from bot.core.settings import Settings
from bot.retrieval.engine import Engine
from bot.serving.dispatch import NOTICE_SECONDS, Dispatcher
from bot.serving.metrics import Metrics

log = logging.getLogger("newsbot.service")


def configured_platforms(settings: Settings, only: str | None = None) -> list[str]:
    found = [p for p in settings.platforms if only in (None, p)]
    if not found:
        raise ConfigError(messages.NO_PLATFORMS)
    return found


def serve_platforms(settings: Settings, only: str | None = None) -> int:
    """Run until a signal; returns the process exit code."""
    platforms = configured_platforms(settings, only)
    slack_mode = None
    if "slack" in platforms:
        slack_mode = settings.slack_mode()  # bad tokens stop us before the model loads
    from bot.state.sql import open_from_settings

    store = open_from_settings(settings)  # an unreachable database stops us before the model loads
    try:
        engine = Engine.open(settings, progress=sys.stderr.isatty())
        return asyncio.run(Service(settings, engine, platforms, slack_mode, store).run())
    finally:
        store.close()


class Service:
    def __init__(
        self, settings: Settings, engine: Engine, platforms: list[str], slack_mode: str | None, store=None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.platforms = platforms
        self.slack_mode = slack_mode
        self.metrics = Metrics()
        self.dispatcher = Dispatcher(
            engine,
            settings.rate_limit_per_minute,
            self.metrics,
            max_pending=settings.max_pending_questions,
            store=store,
        )
        self.discord = None
        self.slack_handler = None
        self.store = store  # threads, feedback, channel settings, shared de-duplication and rate limits
        self.feeds = None
        if settings.feeds:
            from bot.ingest.feeds import FeedPoller

            self.feeds = FeedPoller(settings, settings.feed_state_path, metrics=self.metrics)
        self._reindex_lock: asyncio.Lock | None = None
        self._reindex_again = False
        self._stop: asyncio.Event | None = None
        self._update_index_metrics()

    # --- HTTP endpoints ------------------------------------------------------

    def readiness(self) -> dict[str, bool]:
        state = {"index": self.engine.data is not None}
        if self.discord is not None or "discord" in self.platforms:
            from bot.platforms.discord.app import is_connected

            state["discord"] = self.discord is not None and is_connected(self.discord)
        if "slack" in self.platforms:
            from bot.platforms.slack.app import is_connected as slack_connected

            state["slack"] = self.slack_mode == "http" or (
                self.slack_handler is not None and slack_connected(self.slack_handler)
            )
        state["accepting"] = self.dispatcher.accepting
        return state

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, request: web.Request) -> web.Response:
        state = self.readiness()
        body: dict = dict(state)
        if self.feeds is not None:
            body["feeds"] = self.feeds.health()  # details only: a failing feed never takes the bot out of service
        return web.json_response(body, status=200 if all(state.values()) else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    def _update_index_metrics(self) -> None:
        data = self.engine.data
        self.metrics.passages.set(len(data.passages) if data else 0)
        self.metrics.last_index_update.set(data.built_at if data else 0)

    # --- re-indexing ---------------------------------------------------------

    async def reindex(self, why: str) -> None:
        """Update the index off the event loop; questions keep using the old one meanwhile."""
        if self._reindex_lock.locked():
            self._reindex_again = True  # one more pass after the current one
            return
        async with self._reindex_lock:
            while True:
                self._reindex_again = False
                log.info("re-indexing (%s)", why)
                try:
                    report = await asyncio.to_thread(self.engine.refresh, keep_old_on_failure=True)
                except NewsbotError as exc:
                    log.error("re-indexing failed: %s", exc)
                except Exception:
                    log.exception("re-indexing failed")
                else:
                    self._update_index_metrics()
                    if report is None:
                        log.info("index already up to date (%d passages)", self.engine.passage_count)
                    else:
                        log.info(
                            "index updated: %d added, %d changed, %d removed, %d skipped, %d passages",
                            len(report.added),
                            len(report.changed),
                            len(report.removed),
                            len(report.skipped),
                            report.passages,
                        )
                if not self._reindex_again:
                    break

    def _feed_health(self) -> dict:
        return self.feeds.health() if self.feeds is not None else {}

    async def _follow_feeds(self) -> None:
        """Poll every feed each NEWSBOT_FEED_INTERVAL minutes; index what they bring. Never ends the service."""
        while not self._stop.is_set():
            try:
                report = await self.feeds.poll_once()
            except Exception:
                log.exception("feed poll failed")
            else:
                for result in report.feeds:
                    problems = ([result.error] if result.error else []) + list(result.link_errors)
                    for line in problems:
                        log.warning("feed %s: %s", result.feed, line)
                    if result.added:
                        log.info("feed %s: %d new article(s)", result.feed, len(result.added))
                if report.added:
                    await self.reindex(f"{len(report.added)} new article(s) from feeds")
            try:
                await asyncio.wait_for(self._stop.wait(), self.settings.feed_interval * 60)
            except asyncio.TimeoutError:  # not the builtin before Python 3.11
                pass

    async def _watch_seeds(self) -> None:
        from watchfiles import awatch

        async for _ in awatch(self.settings.seeds_dir, stop_event=self._stop, debounce=500, recursive=True):
            await self.reindex("seeds folder changed")  # changes meanwhile arrive as the next batch

    # --- lifecycle -----------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._reindex_lock = asyncio.Lock()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.create_task(self.reindex("SIGHUP")))

        web_app = web.Application()
        web_app.router.add_get("/healthz", self._healthz)
        web_app.router.add_get("/readyz", self._readyz)
        web_app.router.add_get("/metrics", self._metrics)
        tasks: list[asyncio.Task] = []
        runner = None
        exit_code = 0
        try:
            bolt_app = None
            if "slack" in self.platforms:
                from bot.platforms.slack.app import add_http_routes, create_app

                bolt_app = create_app(self.settings, self.dispatcher, store=self.store, feed_health=self._feed_health)
                if self.slack_mode == "http":
                    add_http_routes(web_app, bolt_app, self.settings.secret("slack_signing_secret"))
            runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, self.settings.http_host, self.settings.http_port)
            try:
                await site.start()
            except OSError as exc:
                raise ConfigError(
                    f"Cannot listen on {self.settings.http_host}:{self.settings.http_port} ({exc.strerror}). "
                    "Set NEWSBOT_HTTP_HOST / NEWSBOT_HTTP_PORT to a free address."
                ) from None
            log.info(
                "listening on http://%s:%d (/healthz /readyz /metrics%s)",
                self.settings.http_host,
                self.settings.http_port,
                " /slack/events" if self.slack_mode == "http" else "",
            )
            if "discord" in self.platforms:
                from bot.platforms.discord.app import create_client, run_discord

                self.discord = create_client(
                    self.settings, self.dispatcher, store=self.store, feed_health=self._feed_health
                )
                tasks.append(asyncio.create_task(run_discord(self.discord, self.settings), name="discord"))
            if self.slack_mode == "socket":
                from bot.platforms.slack.app import start_socket_mode

                self.slack_handler = await start_socket_mode(bolt_app, self.settings)
            if self.settings.watch_seeds:
                tasks.append(asyncio.create_task(self._watch_seeds(), name="watch"))
            if self.feeds is not None:
                tasks.append(asyncio.create_task(self._follow_feeds(), name="feeds"))
            log.info("newsbot serving %s with %d passages", " and ".join(self.platforms), self.engine.passage_count)

            stop = asyncio.create_task(self._stop.wait())
            done, _ = await asyncio.wait([stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stop and task.exception() is not None:
                    raise task.exception()
                if task is not stop:
                    raise NewsbotError(f"The {task.get_name()} connection ended unexpectedly.")
            log.info(
                "stopping: waiting up to %gs for %d question(s) in flight (%d waiting or running)",
                self.settings.shutdown_grace_seconds,
                self.dispatcher.in_flight,
                self.dispatcher.pending,
            )
        except NewsbotError as exc:
            log.error("%s", exc)
            print(f"Error: {exc}", file=sys.stderr)
            exit_code = 2 if isinstance(exc, ConfigError) else 1
        finally:
            drained = await self.dispatcher.drain(self.settings.shutdown_grace_seconds)
            if not drained.in_time:
                log.warning(
                    "questions still in flight after %gs: %d told to ask again after the restart, "
                    "%d reply(ies) not delivered; stopping anyway",
                    self.settings.shutdown_grace_seconds,
                    drained.told_restarting,
                    drained.undelivered,
                )
            self._stop.set()
            await self._close(tasks, runner)
            # questions that arrived while the connections closed got "restarting": let it go out
            if not await self.dispatcher.wait_delivered(NOTICE_SECONDS):
                log.warning("%d reply(ies) still being sent at exit", self.dispatcher.in_flight)
        log.info("stopped")
        return exit_code

    async def _close(self, tasks, runner) -> None:
        if self.discord is not None and not self.discord.is_closed():
            await self.discord.close()
        if self.slack_handler is not None:
            await self.slack_handler.close_async()
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if runner is not None:
            await runner.cleanup()
