"""`newsbot doctor`, run as an operator runs it: a subprocess with environment settings."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.serving.doctor import Check, looks_like_discord_token, run_checks, shown
from tests.conftest import make_settings
from tests.retrieval.test_index import ALPHA, BETA, GAMMA

ROOT = Path(__file__).resolve().parents[2]

# Well-shaped, fake: they pass the shape checks and nothing ever sends them anywhere.
DISCORD = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8"
SLACK_BOT = "xoxb-1234567890-1234567890123-Qw3rTyUiOpAsDfGhJkLzXcVb"
SLACK_APP = "xapp-1-A0123456789-1234567890123-0a1b2c3d4e5f6a7b8c9d"
GOOD_TOKENS = {"DISCORD_TOKEN": DISCORD, "SLACK_BOT_TOKEN": SLACK_BOT, "SLACK_APP_TOKEN": SLACK_APP}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`newsbot <args>` in tmp (so no .env is read), with only the settings given here."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "SLACK_", "DISCORD_"))}
    environ.update(
        NEWSBOT_SEEDS_DIR=str(tmp / "seeds"),
        NEWSBOT_INDEX_DIR=str(tmp / "index"),
        NEWSBOT_HTTP_HOST="127.0.0.1",
        NEWSBOT_HTTP_PORT=str(free_port()),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), environ.get("PYTHONPATH")])),
    )
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, cwd=tmp, env=environ, timeout=120
    )


def doctor(tmp: Path, **env: str) -> tuple[subprocess.CompletedProcess, dict[str, tuple[bool, str, str]]]:
    """Run `newsbot doctor`; returns the process and {check name: (ok, detail, fix)}."""
    out = run(tmp, "doctor", **env)
    checks: dict[str, tuple[bool, str, str]] = {}
    last = None
    for line in out.stdout.splitlines():
        if line.startswith(("ok    ", "FAIL  ")):
            name, _, detail = line[6:].partition(": ")
            checks[name] = (line.startswith("ok"), detail, "")
            last = name
        elif line.startswith("      fix: ") and last:
            ok, detail, _ = checks[last]
            checks[last] = (ok, detail, line[len("      fix: ") :])
        elif line.startswith(" ") and last:  # a detail of several lines
            ok, detail, fix = checks[last]
            checks[last] = (ok, detail + "\n" + line.strip(), fix)
        elif line.strip():
            checks.setdefault("<unparsed>", (False, "", ""))
            checks["<unparsed>"] = (False, checks["<unparsed>"][1] + line + "\n", "")
    return out, checks


def write_seeds(tmp: Path, **files: str) -> None:
    (tmp / "seeds").mkdir(exist_ok=True)
    for name, text in files.items():
        (tmp / "seeds" / name).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory) -> Path:
    """Two small articles and their index, built by `newsbot index` (shared: do not modify)."""
    tmp = tmp_path_factory.mktemp("doctor-good")
    write_seeds(tmp, **{"alpha.txt": ALPHA, "beta.txt": BETA})
    built = run(tmp, "index")
    assert built.returncode == 0, built.stderr
    return tmp


def copy_of(indexed: Path, tmp: Path) -> Path:
    shutil.copytree(indexed / "seeds", tmp / "seeds")
    shutil.copytree(indexed / "index", tmp / "index", symlinks=True)
    return tmp


# ---------------------------------------------------------------- as a subprocess


def test_a_good_setup_passes_every_check(indexed):
    out, checks = doctor(indexed, **GOOD_TOKENS)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "<unparsed>" not in checks, out.stdout
    assert {
        "settings",
        "platforms",
        "discord token",
        "slack bot token",
        "slack app token",
        "slack mode",
        "seeds",
        "seed files",
        "index",
        "model",
        "store",
        "http port",
    } <= set(checks)
    assert all(ok for ok, _, _ in checks.values()), out.stdout
    assert "2 article(s)" in checks["seeds"][1] and "up to date" in checks["index"][1]
    assert "384-d" in checks["model"][1]
    for token in GOOD_TOKENS.values():
        assert token not in out.stdout + out.stderr
        assert token[:5] not in out.stdout + out.stderr  # at most the first four characters


def test_nothing_configured_fails_and_lists_what_to_set(indexed):
    out, checks = doctor(indexed)
    assert out.returncode == 1
    ok, detail, fix = checks["platforms"]
    assert not ok and "no chat platform" in detail
    for name in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        assert name in fix
    assert checks["index"][0] and checks["model"][0]  # the rest is still checked


def test_malformed_tokens_are_each_named_and_never_shown(indexed):
    tokens = {
        "SLACK_BOT_TOKEN": "xoxp-1234567890-0987654321-userTokenValue42",
        "SLACK_APP_TOKEN": "abc",
        "DISCORD_TOKEN": "nonsense",
    }
    out, checks = doctor(indexed, **tokens)
    assert out.returncode == 1
    text = out.stdout + out.stderr
    for name, value in tokens.items():
        assert value not in text, f"{name}'s value was printed"
    ok, detail, fix = checks["slack bot token"]
    assert (
        not ok and "SLACK_BOT_TOKEN" in detail and "xoxb-" in detail and "'xoxp'" in detail and "SLACK_BOT_TOKEN" in fix
    )
    ok, detail, fix = checks["slack app token"]
    assert not ok and "SLACK_APP_TOKEN" in detail and "xapp-" in detail and "SLACK_APP_TOKEN" in fix
    ok, detail, fix = checks["discord token"]
    assert not ok and "DISCORD_TOKEN" in detail and "DISCORD_TOKEN" in fix
    assert "slack mode" not in checks  # the token checks already say what to fix


def test_slack_over_http_needs_the_signing_secret(indexed):
    out, checks = doctor(indexed, SLACK_BOT_TOKEN=SLACK_BOT)
    assert out.returncode == 1
    ok, detail, fix = checks["slack mode"]
    assert not ok and "SLACK_SIGNING_SECRET" in detail and "SLACK_SIGNING_SECRET" in fix
    out, checks = doctor(indexed, SLACK_BOT_TOKEN=SLACK_BOT, SLACK_SIGNING_SECRET="0123456789abcdef0123456789abcdef")
    assert checks["slack mode"][0] and "HTTP mode" in checks["slack mode"][1] and checks["platforms"][0]
    assert "0123456789abcdef" not in out.stdout


def test_missing_seeds_folder(tmp_path):
    out, checks = doctor(tmp_path, **GOOD_TOKENS)
    assert out.returncode == 1
    ok, detail, fix = checks["seeds"]
    assert not ok and "does not exist" in detail and "NEWSBOT_SEEDS_DIR" in fix
    # `newsbot index` would fail too: the fix says to mend the seeds folder first
    assert not checks["index"][0] and checks["index"][2].startswith("Fix the seeds folder first")


def test_a_misspelt_setting_fails_its_own_check(indexed):
    out, checks = doctor(indexed, **GOOD_TOKENS, NEWSBOT_TOPK="5")
    assert out.returncode == 1
    ok, detail, fix = checks["setting names"]
    assert not ok and "NEWSBOT_TOPK" in detail and "NEWSBOT_TOP_K" in detail and ".env.example" in fix


def test_missing_index_says_run_newsbot_index(indexed, tmp_path):
    shutil.copytree(indexed / "seeds", tmp_path / "seeds")
    out, checks = doctor(tmp_path, **GOOD_TOKENS)
    assert out.returncode == 1
    ok, detail, fix = checks["index"]
    assert not ok and "no index" in detail and "`newsbot index`" in fix
    assert all(ok for name, (ok, _, _) in checks.items() if name != "index"), out.stdout


def test_stale_and_damaged_index_name_the_cause(indexed, tmp_path):
    copy_of(indexed, tmp_path)
    write_seeds(tmp_path, **{"gamma.txt": GAMMA})
    (tmp_path / "seeds" / "beta.txt").unlink()
    out, checks = doctor(tmp_path, **GOOD_TOKENS)
    ok, detail, fix = checks["index"]
    assert not ok and "added: gamma.txt" in detail and "removed: beta.txt" in detail and "`newsbot index`" in fix

    out, checks = doctor(tmp_path, NEWSBOT_CHUNK_MAX_CHARS="300", **GOOD_TOKENS)
    assert not checks["index"][0] and "chunking settings changed" in checks["index"][1]

    current = (tmp_path / "index" / "current").resolve()
    (current / "passages.jsonl").write_text("", encoding="utf-8")
    out, checks = doctor(tmp_path, **GOOD_TOKENS)
    ok, detail, fix = checks["index"]
    assert out.returncode == 1 and not ok and "cannot be read" in detail and "`newsbot index`" in fix


def test_an_index_of_the_previous_format_says_an_update_upgrades_it(indexed, tmp_path):
    copy_of(indexed, tmp_path)
    current = (tmp_path / "index" / "current").resolve()
    manifest = json.loads((current / "manifest.json").read_text(encoding="utf-8"))
    (current / "manifest.json").write_text(json.dumps({**manifest, "format_version": 5}), encoding="utf-8")
    out, checks = doctor(tmp_path, **GOOD_TOKENS)
    ok, detail, fix = checks["index"]
    assert out.returncode == 1 and not ok and "upgrades it without embedding again" in detail, out.stdout
    assert "`newsbot index`" in fix


def test_skipped_seed_files_are_reported(indexed, tmp_path):
    copy_of(indexed, tmp_path)
    (tmp_path / "seeds" / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "seeds" / "latin1.txt").write_bytes("Caf\xe9 news from somewhere far away today.".encode("latin-1"))
    _out, checks = doctor(tmp_path, **GOOD_TOKENS)
    assert checks["seeds"][0] and "2 article(s)" in checks["seeds"][1]
    ok, detail, fix = checks["seed files"]
    assert not ok and "empty.txt: the file is empty" in detail and "latin1.txt: the file is not UTF-8" in detail
    assert "NEWSBOT_SEEDS_DIR" in fix


def test_bad_top_k_fails_the_settings_check_by_name(tmp_path):
    out, checks = doctor(tmp_path, NEWSBOT_TOP_K="0", **GOOD_TOKENS)
    assert out.returncode == 1
    ok, detail, fix = checks["settings"]
    assert not ok and "NEWSBOT_TOP_K" in detail and ".env" in fix
    assert "Traceback" not in out.stderr
    for token in GOOD_TOKENS.values():
        assert token not in out.stdout + out.stderr


def test_busy_port_is_named_with_its_setting(indexed):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        out, checks = doctor(indexed, NEWSBOT_HTTP_PORT=str(port), **GOOD_TOKENS)
    assert out.returncode == 1
    ok, detail, fix = checks["http port"]
    assert not ok and f"127.0.0.1:{port}" in detail and "NEWSBOT_HTTP_PORT" in fix


def test_a_model_that_cannot_load_is_a_failed_check(indexed):
    out, checks = doctor(indexed, NEWSBOT_EMBEDDING_MODEL=str(indexed / "no-such-model"), **GOOD_TOKENS)
    assert out.returncode == 1
    ok, detail, fix = checks["model"]
    assert not ok and "no-such-model" in detail and "NEWSBOT_EMBEDDING_MODEL" in fix
    assert not checks["index"][0] and "embedding model changed" in checks["index"][1]


# ---------------------------------------------------------------- in process


def test_run_checks_loads_settings_itself_and_never_raises(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSBOT_TOP_K", "eleven")
    checks = run_checks()
    assert len(checks) == 1 and isinstance(checks[0], Check)
    assert checks[0].name == "settings" and not checks[0].ok and "NEWSBOT_TOP_K" in checks[0].detail
    with pytest.raises(AttributeError):
        checks[0].ok = True  # frozen


def test_run_checks_with_given_settings(indexed):
    settings = make_settings(indexed, discord_token=DISCORD, http_host="127.0.0.1", http_port=0)
    checks = {c.name: c for c in run_checks(settings)}
    assert all(c.ok for c in checks.values()), checks
    assert "chosen at start-up" in checks["http port"].detail


def test_token_shapes():
    assert looks_like_discord_token(DISCORD)
    for bad in ("nonsense", "Bot " + DISCORD, DISCORD.replace(".", ""), DISCORD + ".x", "a.b.c", "xoxb-1-2-3"):
        assert not looks_like_discord_token(bad), bad
    assert shown(SLACK_BOT) == "starts with 'xoxb'"
    assert shown("short-token") == "is only 11 characters long"


def test_bot_prefix_on_a_discord_token_is_explained(tmp_path):
    settings = make_settings(tmp_path, discord_token="Bot " + DISCORD, http_port=0)
    check = next(c for c in run_checks(settings) if c.name == "discord token")
    assert not check.ok and "'Bot '" in check.detail and DISCORD[5:] not in check.detail


def test_an_unreachable_database_and_bad_feeds_are_named(indexed, tmp_path):
    out, checks = doctor(
        indexed,
        **GOOD_TOKENS,
        NEWSBOT_DATABASE_URL="postgresql://bot:hunter2-secret@127.0.0.1:1/newsbot",
        NEWSBOT_FEEDS="https://news.example.com/feed.xml ftp://example.com/feed",
    )
    assert out.returncode == 1
    ok, detail, fix = checks["store"]
    assert not ok and "NEWSBOT_DATABASE_URL" in detail + fix and "hunter2-secret" not in out.stdout + out.stderr
    ok, detail, _ = checks["feeds"]
    assert not ok and "ftp://example.com/feed" in detail and "news.example.com" not in detail
    assert checks["index"][0] and checks["model"][0]  # the rest is still checked


def test_the_default_store_is_a_sqlite_file_in_the_data_folder(indexed, tmp_path):
    _, checks = doctor(indexed, **GOOD_TOKENS, NEWSBOT_DATA_DIR=str(tmp_path / "state"))
    ok, detail, _ = checks["store"]
    assert ok and "sqlite" in detail and (tmp_path / "state" / "newsbot.sqlite3").exists()
