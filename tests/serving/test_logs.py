"""Log lines, plain and JSON, never show a secret: neither the configured ones nor
anything shaped like a Slack or Discord token that turns up in a message or a traceback."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.serving.logs import setup_logging
from tests.conftest import make_settings

# Shaped like real tokens, none of them configured in the tests below.
FOREIGN_TOKENS = {
    "slack bot": "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx",
    "slack app": "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef0123456789",
    "slack user": "xoxp-1234567890-1234567890-1234567890-abcdef0123456789abcdef0123456789",
    "discord (older)": "MTMwMDAwMDAwMDAwMDAwMDAw.GsTand.in-token-for-the-local-discord-0123",
    "discord (newer)": "OTg3NjU0MzIxMDEyMzQ1Njc4.Gh7x2Q.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL",
}
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # configured: no token shape, masked by value


@pytest.fixture
def capture(tmp_path):
    """setup_logging into a buffer; the root logger is put back afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)

    def start(log_format: str, **settings) -> io.StringIO:
        buffer = io.StringIO()
        setup_logging(make_settings(tmp_path, log_format=log_format, **settings), stream=buffer)
        return buffer

    yield start
    root.handlers[:], _ = saved[0], root.setLevel(saved[1])


def fail_with(token: str) -> None:
    try:
        raise ConnectionError(f"the server refused {token}")
    except ConnectionError as exc:
        raise RuntimeError(f"could not post with token={token}") from exc


def log_everywhere(token: str) -> None:
    """The token in the message, its arguments, an extra field (plain and nested) and a traceback."""
    log = logging.getLogger("newsbot.test")
    log.warning(f"inline {token}")
    log.warning("as an argument: %s", token)
    log.warning("in extras", extra={"detail": f"url?token={token}", "headers": {"Authorization": f"Bearer {token}"}})
    try:
        fail_with(token)
    except RuntimeError:
        log.exception("a failing call")


@pytest.mark.parametrize("kind", FOREIGN_TOKENS)
@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_token_shaped_strings_are_masked_everywhere(capture, kind, log_format):
    token = FOREIGN_TOKENS[kind]
    out = capture(log_format)
    log_everywhere(token)
    text = out.getvalue()
    assert token not in text
    assert token[:12] not in text  # not even partly
    assert text.count("[redacted]") >= 6  # message, argument, extra, nested extra, traceback twice
    assert "RuntimeError" in text and "ConnectionError" in text  # the traceback itself is kept
    if log_format == "json":
        records = [json.loads(line) for line in text.splitlines()]
        assert [r["message"] for r in records][:2] == ["inline [redacted]", "as an argument: [redacted]"]
        assert records[2]["detail"] == "url?token=[redacted]"
        assert records[2]["headers"] == {"Authorization": "Bearer [redacted]"}
        assert "[redacted]" in records[3]["traceback"] and records[3]["level"] == "ERROR"


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_configured_secrets_are_masked_by_value(capture, log_format):
    out = capture(log_format, SLACK_SIGNING_SECRET=SIGNING_SECRET)
    log_everywhere(SIGNING_SECRET)
    assert SIGNING_SECRET not in out.getvalue()


@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_ordinary_text_is_left_alone(capture, log_format):
    out = capture(log_format)
    text = "xoxb- alone, a.b.c, Meta.Platforms.Inc, version 1.2.3 and https://example.com/x?y=z"
    logging.getLogger("newsbot.test").warning(text, extra={"sources": ["000_bed8d2b4576aa9ed.txt"]})
    line = out.getvalue()
    assert "[redacted]" not in line
    if log_format == "json":
        record = json.loads(line)
        assert record["message"] == text and record["sources"] == ["000_bed8d2b4576aa9ed.txt"]
    else:
        assert text in line and 'sources=["000_bed8d2b4576aa9ed.txt"]' in line


def test_json_lines_carry_time_level_logger_and_fields(capture):
    out = capture("json")
    logging.getLogger("newsbot.questions").info(
        "question", extra={"platform": "slack", "outcome": "answered", "latency_ms": 12.5}
    )
    (record,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert record["level"] == "INFO" and record["logger"] == "newsbot.questions" and record["message"] == "question"
    assert record["platform"] == "slack" and record["latency_ms"] == 12.5
    assert record["time"].endswith("Z") and record["time"][10] == "T"


def test_the_level_setting_filters(capture):
    out = capture("plain", log_level="WARNING")
    logging.getLogger("newsbot.test").info("hidden")
    logging.getLogger("newsbot.test").warning("shown")
    assert "hidden" not in out.getvalue() and "shown" in out.getvalue()


def test_a_library_that_sets_its_own_logger_to_debug_is_still_filtered(capture):
    out = capture("plain", log_level="INFO")
    chatty = logging.getLogger("some_library_imported_later")
    chatty.setLevel(logging.DEBUG)  # what bm25s does when it is imported after start-up
    chatty.debug("Building index from IDs objects")
    chatty.info("kept")
    assert "Building index" not in out.getvalue() and "kept" in out.getvalue()
