"""Shared fixtures: real model, real index, tiny real corpora in temporary folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bot.core.settings import Settings
from bot.retrieval.embedding import BundledE5
from bot.retrieval.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
_ENV_NAMES = ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")


@pytest.fixture(autouse=True, scope="session")
def _clean_environment():
    """Tests never see the developer's own settings."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("NEWSBOT_") or k in _ENV_NAMES}
    for k in saved:
        del os.environ[k]
    yield
    os.environ.update(saved)


def make_settings(tmp: Path, **overrides) -> Settings:
    """Settings for a test, ignoring any .env file."""
    values = {"seeds_dir": tmp / "seeds", "index_dir": tmp / "index", **overrides}
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def embedder() -> BundledE5:
    return BundledE5()


@pytest.fixture(scope="session")
def seeds_engine(tmp_path_factory, embedder) -> Engine:
    """A real Engine over a copy of the project's seed articles (shared: do not modify)."""
    tmp = tmp_path_factory.mktemp("seeds-engine")
    shutil.copytree(SEEDS, tmp / "seeds")
    return Engine.open(make_settings(tmp), embedder=embedder)


@pytest.fixture(scope="session")
def engine(seeds_engine) -> Engine:
    """The engine the platform tests run against."""
    return seeds_engine


@pytest.fixture
def corpus(tmp_path) -> Path:
    """An empty seeds folder in a temporary directory; tests write their own articles."""
    (tmp_path / "seeds").mkdir()
    return tmp_path


# ---------------------------------------------------------------- PostgreSQL (bot/state)


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server from the Debian package, on 127.0.0.1, for the whole session.

    Skipped, with the reason, where the package is not installed; with CI_REQUIRE_POSTGRES=1
    (set by CI, which installs it) a missing server fails instead of skipping.
    """
    from tests.state.pgserver import PgServer, unavailable

    reason = unavailable()
    if reason:
        if os.environ.get("CI_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"CI_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    server = PgServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.new_database()
