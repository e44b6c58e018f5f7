"""Opening the store: where it lives, and one clear line naming NEWSBOT_DATABASE_URL when it cannot open."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.state import migrate
from bot.state.sql import mask, open_from_settings, open_store
from tests.conftest import make_settings


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_error(url: str) -> str:
    with pytest.raises(ConfigError) as caught:
        open_store(url)
    message = str(caught.value)
    assert "NEWSBOT_DATABASE_URL" in message
    assert "\n" not in message
    return message


def test_default_store_is_a_sqlite_file_in_the_data_folder(tmp_path):
    settings = make_settings(tmp_path, data_dir=tmp_path / "nested" / "data", thread_turns=2, thread_max_age_hours=2)
    store = open_from_settings(settings)
    try:
        assert Path(store.engine.url.database) == tmp_path / "nested" / "data" / "newsbot.sqlite3"
        assert (store.thread_turns, store.thread_max_age) == (2, 7200.0)
        assert migrate.current(store.engine) == migrate.head()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.close()


def test_a_url_that_does_not_parse_is_named():
    message = config_error("not a database url")
    assert "not a database url" in message


def test_an_unsupported_database_is_named_without_its_password():
    message = config_error("mysql://bot:hunter2secret@db.example/newsbot")
    assert "mysql" in message and "hunter2secret" not in message


def test_an_unreachable_server_is_named_without_its_password():
    message = config_error(f"postgresql://bot:hunter2secret@127.0.0.1:{closed_port()}/newsbot")
    assert "127.0.0.1" in message and "hunter2secret" not in message and "***" in message


def test_a_folder_that_cannot_be_created_is_named(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    message = config_error(f"sqlite:///{tmp_path}/a-file/data/newsbot.sqlite3")
    assert str(tmp_path / "a-file" / "data") in message


def test_a_missing_postgresql_database_is_named(postgres_url):
    message = config_error(postgres_url + "_missing")
    assert "_missing" in message and "does not exist" in message


def test_postgres_scheme_is_accepted_as_postgresql(postgres_url):
    store = open_store(postgres_url.replace("postgresql://", "postgres://", 1))
    try:
        assert store.engine.dialect.name == "postgresql"
        assert store.engine.url.drivername == "postgresql+psycopg"
        assert migrate.current(store.engine) == migrate.head()
    finally:
        store.close()


@pytest.mark.parametrize(
    "url",
    ["postgresql://bot:p@ss:w0rd@host/db", "postgresql://bot:s3cr%40t@host:5432/db", "not-a-url://bot:s3cret@x/y"],
)
def test_mask_hides_the_password(url):
    masked = mask(url)
    assert "s3cr" not in masked and "w0rd" not in masked and "***" in masked


def test_a_malformed_url_is_named_without_its_password():
    message = config_error("postgresql://bot:hunter2secret@db.example:notaport/newsbot")
    assert "notaport" in message and "hunter2secret" not in message
