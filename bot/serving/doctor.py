"""`newsbot doctor`: check the settings, tokens, seeds, index, model and port, each with its fix.

Every check runs without network access and without starting a platform, so it is safe to
run next to a live bot. A token is never shown: at most its first four characters.
"""

from __future__ import annotations

import math
import re
import socket
import time
from dataclasses import dataclass

import numpy as np

from bot.core import messages
from bot.core.errors import ConfigError, IndexCorrupt, ModelError, NewsbotError
from bot.core.settings import BUNDLED_MODEL, Settings, load_settings, unknown_names

# A Discord bot token: base64url(user id) . base64url(timestamp) . HMAC
_DISCORD_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")
_SHOWN_PREFIX = 4  # characters of a token we may show
_MIN_SHOWN_LENGTH = 12  # shorter values are not shown at all


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""


@dataclass
class _State:
    """What one check learns that a later one needs."""

    seeds: list | None = None
    manifest: dict | None = None


def run_checks(settings: Settings | None = None) -> list[Check]:
    """Every check, in the order a person fixes things. Never raises for a bad setup."""
    if settings is None:
        try:
            settings = load_settings()
        except ConfigError as exc:
            return [Check("settings", False, str(exc), messages.DOCTOR_SETTINGS_FIX)]
    checks = [Check("settings", True, messages.DOCTOR_SETTINGS_OK)]
    unknown = unknown_names()
    if unknown:
        checks.append(Check("setting names", False, "; ".join(unknown), messages.DOCTOR_UNKNOWN_SETTINGS_FIX))
    state = _State()
    for step in (_platforms, _discord_token, _slack, _seeds, _index, _model, _store, _feeds, _port):
        try:
            checks.extend(step(settings, state))
        except Exception as exc:
            name = step.__name__.strip("_").replace("_", " ")
            checks.append(
                Check(name, False, messages.DOCTOR_CHECK_CRASHED.format(detail=f"{type(exc).__name__}: {exc}"))
            )
    return checks


# ---------------------------------------------------------------- helpers


def shown(token: str) -> str:
    """How a token is described: its first four characters, or only its length if short."""
    if len(token) < _MIN_SHOWN_LENGTH:
        return messages.DOCTOR_TOKEN_SHORT.format(length=len(token))
    return messages.DOCTOR_TOKEN_STARTS.format(prefix=token[:_SHOWN_PREFIX])


def looks_like_discord_token(token: str) -> bool:
    return bool(_DISCORD_TOKEN.match(token))


def _embedder_name(settings: Settings) -> str:
    """The name the index manifest records for the configured model (without loading it)."""
    return BUNDLED_MODEL if settings.uses_bundled_model else settings.embedding_model


# ---------------------------------------------------------------- checks


def _platforms(settings: Settings, state: _State) -> list[Check]:
    found = []
    for platform in settings.platforms:
        if platform == "discord":
            found.append("Discord")
            continue
        try:
            found.append("Slack (Socket Mode)" if settings.slack_mode() == "socket" else "Slack (HTTP)")
        except ConfigError:
            found.append("Slack (not startable: see below)")
    if not found:
        return [Check("platforms", False, messages.DOCTOR_PLATFORMS_NONE, messages.DOCTOR_PLATFORMS_FIX)]
    return [Check("platforms", True, ", ".join(found))]


def _discord_token(settings: Settings, state: _State) -> list[Check]:
    token = settings.secret("discord_token")
    if not token:
        return []
    if token.lower().startswith("bot "):
        return [
            Check("discord token", False, messages.DOCTOR_DISCORD_TOKEN_PREFIXED, messages.DOCTOR_DISCORD_TOKEN_FIX)
        ]
    if not looks_like_discord_token(token):
        return [
            Check(
                "discord token",
                False,
                messages.DOCTOR_DISCORD_TOKEN_BAD.format(shown=shown(token)),
                messages.DOCTOR_DISCORD_TOKEN_FIX,
            )
        ]
    return [
        Check("discord token", True, messages.DOCTOR_TOKEN_OK.format(kind="a Discord bot token", shown=shown(token)))
    ]


def _slack(settings: Settings, state: _State) -> list[Check]:
    bot, app = settings.secret("slack_bot_token"), settings.secret("slack_app_token")
    checks = []
    if not bot:
        others = [
            n
            for n, v in (("SLACK_APP_TOKEN", app), ("SLACK_SIGNING_SECRET", settings.secret("slack_signing_secret")))
            if v
        ]
        if others:
            names = " and ".join(others) + (" are" if len(others) > 1 else " is")
            checks.append(
                Check(
                    "slack bot token",
                    False,
                    messages.DOCTOR_SLACK_NO_BOT_TOKEN.format(names=names),
                    messages.DOCTOR_SLACK_BOT_TOKEN_FIX,
                )
            )
        return checks
    bot_ok = bot.startswith("xoxb-")
    checks.append(
        Check("slack bot token", True, messages.DOCTOR_TOKEN_OK.format(kind="a Slack bot token", shown=shown(bot)))
        if bot_ok
        else Check(
            "slack bot token",
            False,
            messages.DOCTOR_SLACK_BOT_TOKEN_BAD.format(shown=shown(bot)),
            messages.DOCTOR_SLACK_BOT_TOKEN_FIX,
        )
    )
    app_ok = not app or app.startswith("xapp-")
    if app:
        checks.append(
            Check(
                "slack app token",
                True,
                messages.DOCTOR_TOKEN_OK.format(kind="a Slack app-level token", shown=shown(app)),
            )
            if app_ok
            else Check(
                "slack app token",
                False,
                messages.DOCTOR_SLACK_APP_TOKEN_BAD.format(shown=shown(app)),
                messages.DOCTOR_SLACK_APP_TOKEN_FIX,
            )
        )
    if bot_ok and app_ok:  # otherwise the token checks above already say what to fix
        try:
            mode = settings.slack_mode()
        except ConfigError as exc:
            checks.append(Check("slack mode", False, str(exc), messages.DOCTOR_SLACK_MODE_FIX))
        else:
            detail = (
                messages.DOCTOR_SLACK_MODE_SOCKET
                if mode == "socket"
                else messages.DOCTOR_SLACK_MODE_HTTP.format(port=settings.http_port)
            )
            checks.append(Check("slack mode", True, detail))
    return checks


def _seeds(settings: Settings, state: _State) -> list[Check]:
    from bot.retrieval.loading import list_seed_files, parse_article

    path = settings.seeds_dir.absolute()
    fix = messages.DOCTOR_SEEDS_FIX.format(path=path)
    try:
        seeds = list_seed_files(path, max_bytes=settings.max_file_bytes)
    except NewsbotError as exc:
        return [Check("seeds", False, str(exc), fix)]
    except OSError as exc:
        return [Check("seeds", False, f"{path}: {exc.strerror or exc}", fix)]
    state.seeds = seeds
    skipped = []  # every entry is listed, refused ones with their reason
    articles = 0
    for seed in seeds:
        parsed = parse_article(seed)
        if isinstance(parsed, str):
            skipped.append((seed.source, parsed))
        else:
            articles += 1
    checks = [
        Check("seeds", True, messages.DOCTOR_SEEDS_OK.format(count=articles, path=path))
        if articles
        else Check("seeds", False, messages.SEEDS_EMPTY.format(path=path), fix)
    ]
    if skipped:
        files = "; ".join(messages.SKIPPED_FILE.format(source=s, reason=r) for s, r in skipped)
        checks.append(
            Check(
                "seed files",
                False,
                messages.DOCTOR_SEED_FILES_SKIPPED.format(count=len(skipped), files=files),
                messages.DOCTOR_SEED_FILES_FIX,
            )
        )
    elif articles:
        checks.append(Check("seed files", True, messages.DOCTOR_SEED_FILES_OK.format(count=len(seeds))))
    return checks


def _index(settings: Settings, state: _State) -> list[Check]:
    from bot.retrieval.config import RetrievalConfig
    from bot.retrieval.indexing import is_fresh, rebuild_reason, seed_state
    from bot.retrieval.store import FORMAT_VERSION, load_index, read_manifest

    path, fix = settings.index_dir.absolute(), messages.DOCTOR_INDEX_FIX
    # `newsbot index` cannot succeed before the seeds folder is fixed: say that instead
    seeds_first = messages.DOCTOR_INDEX_AFTER_SEEDS_FIX
    try:
        manifest = read_manifest(path)
        if manifest is None:
            missing = messages.DOCTOR_INDEX_MISSING.format(path=path)
            return [Check("index", False, missing, fix if state.seeds else seeds_first)]
        data = load_index(path)
    except (IndexCorrupt, OSError) as exc:
        return [Check("index", False, messages.DOCTOR_INDEX_DAMAGED.format(path=path, detail=exc), fix)]
    state.manifest = manifest
    name = _embedder_name(settings)
    if state.seeds is None:
        reason = messages.DOCTOR_SEEDS_UNCHECKED
        return [Check("index", False, messages.DOCTOR_INDEX_STALE.format(path=path, reason=reason), seeds_first)]
    config = RetrievalConfig.from_settings(settings)
    if not is_fresh(manifest, config, name, state.seeds):
        reason = rebuild_reason(manifest, config, name)
        if not reason and manifest.get("format_version") != FORMAT_VERSION:
            reason = messages.INDEX_UPGRADE_FORMAT
        elif not reason:
            built = {**manifest["files"], **manifest.get("skipped", {})}
            now = seed_state(state.seeds)
            changes = [
                f"{label}: {', '.join(sorted(names))}"
                for label, names in (
                    ("added", now.keys() - built.keys()),
                    ("changed", {n for n in now.keys() & built.keys() if now[n] != built[n]}),
                    ("removed", built.keys() - now.keys()),
                )
                if names
            ]
            reason = messages.DOCTOR_INDEX_FILES_CHANGED.format(changes="; ".join(changes))
        return [Check("index", False, messages.DOCTOR_INDEX_STALE.format(path=path, reason=reason), fix)]
    built_at = time.strftime("%Y-%m-%d %H:%M", time.localtime(data.built_at)) if data.built_at else "at an unknown time"
    return [
        Check(
            "index",
            True,
            messages.DOCTOR_INDEX_OK.format(
                passages=len(data.passages),
                files=len(manifest["files"]),
                path=path,
                built=built_at,
                model=manifest.get("model"),
            ),
        )
    ]


def _model(settings: Settings, state: _State) -> list[Check]:
    from bot.retrieval.embedding import load_embedder

    model = settings.embedding_model
    started = time.perf_counter()
    try:
        embedder = load_embedder(model)
        vector = np.asarray(embedder.query("Siapa CTO baru Anthropic? Who is Anthropic's new CTO?"), dtype=np.float32)
    except ModelError as exc:
        return [Check("model", False, str(exc), messages.DOCTOR_MODEL_FIX)]
    except Exception as exc:
        return [
            Check("model", False, messages.MODEL_LOAD_FAILED.format(model=model, detail=exc), messages.DOCTOR_MODEL_FIX)
        ]
    seconds = time.perf_counter() - started
    problem = ""
    if vector.ndim != 1 or vector.shape[0] != embedder.dim:
        problem = f"shape {vector.shape}, expected ({embedder.dim},)"
    elif not np.all(np.isfinite(vector)):
        problem = "not finite"
    elif not math.isclose(float(np.linalg.norm(vector)), 1.0, abs_tol=1e-2):
        problem = f"norm {float(np.linalg.norm(vector)):.3f}, expected 1"
    if problem:
        return [
            Check(
                "model",
                False,
                messages.DOCTOR_MODEL_BAD_VECTOR.format(model=model, detail=problem),
                messages.DOCTOR_MODEL_FIX,
            )
        ]
    index_dim = (state.manifest or {}).get("dim")
    if index_dim is not None and int(index_dim) != vector.shape[0]:
        return [
            Check(
                "model",
                False,
                messages.DOCTOR_MODEL_DIM.format(model=model, dim=vector.shape[0], index_dim=index_dim),
                messages.DOCTOR_MODEL_DIM_FIX,
            )
        ]
    return [
        Check("model", True, messages.DOCTOR_MODEL_OK.format(model=embedder.name, seconds=seconds, dim=vector.shape[0]))
    ]


def _store(settings: Settings, state: _State) -> list[Check]:
    """The store opens (and its schema migrates) as `newsbot serve` will open it."""
    from bot.state.sql import mask, open_from_settings

    try:
        store = open_from_settings(settings)
    except ConfigError as exc:
        return [Check("store", False, str(exc), messages.DOCTOR_STORE_FIX)]
    store.close()
    return [Check("store", True, messages.DOCTOR_STORE_OK.format(url=mask(settings.store_url)))]


def _feeds(settings: Settings, state: _State) -> list[Check]:
    from bot.platforms.reply import safe_url

    if not settings.feeds:
        return []
    bad = [feed for feed in settings.feeds if safe_url(feed) is None]
    if bad:
        detail = messages.DOCTOR_FEEDS_BAD.format(feeds=", ".join(bad))
        return [Check("feeds", False, detail, messages.DOCTOR_FEEDS_FIX)]
    detail = messages.DOCTOR_FEEDS_OK.format(count=len(settings.feeds), minutes=settings.feed_interval)
    return [Check("feeds", True, detail)]


def _port_busy(host: str, port: int, exc: OSError) -> Check:
    detail = messages.DOCTOR_PORT_BUSY.format(host=host, port=port, detail=exc.strerror or exc)
    return Check("http port", False, detail, messages.DOCTOR_PORT_FIX)


def _port(settings: Settings, state: _State) -> list[Check]:
    host, port = settings.http_host, settings.http_port
    if port == 0:
        return [Check("http port", True, messages.DOCTOR_PORT_ANY)]
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        return [_port_busy(host, port, exc)]
    for family, kind, proto, _, address in infos[:1]:
        with socket.socket(family, kind, proto) as sock:
            # as the server will: a port left in TIME_WAIT by a stopped bot is free
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
                sock.listen(1)
            except OSError as exc:
                return [_port_busy(host, port, exc)]
    return [Check("http port", True, messages.DOCTOR_PORT_OK.format(host=host, port=port))]


__all__ = ["Check", "looks_like_discord_token", "run_checks", "shown"]
