"""The operator-critical facts of the Dockerfile, compose.yaml and the systemd unit.

No Docker engine runs these tests: they read the files as Docker, Compose and systemd
would, and check what an operator relies on (see docs/deploy.md).
"""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path, PurePosixPath

import pytest
import yaml

from bot.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GRACE = Settings.model_fields["shutdown_grace_seconds"].default
DEFAULT_PORT = Settings.model_fields["http_port"].default


# ---------------------------------------------------------------- Dockerfile


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    out, pending = [], ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, args = line.partition(" ")
        out.append((word.upper(), args.strip()))
    return out


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def one(stage, word) -> str:
    found = [args for w, args in stage if w == word]
    assert found, f"no {word} in the final stage"
    return found[-1]


def test_image_is_python_311_slim():
    instructions = dockerfile_instructions()
    args = dict(a.split("=", 1) for w, a in instructions if w == "ARG" and "=" in a)
    images = [a.split()[0] for w, a in instructions if w == "FROM"]
    resolved = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image) for image in images]
    assert resolved and all(image == "python:3.11-slim" for image in resolved), resolved


def test_runs_as_a_non_root_user():
    stage = final_stage()
    user = one(stage, "USER").split(":")[0]
    assert user not in ("root", "0", "")
    # the USER comes before the index is built and before the entrypoint
    words = [w for w, _ in stage]
    assert words.index("USER") < words.index("ENTRYPOINT")


def test_installs_the_package_cpu_only_without_torch():
    runs = " ".join(args for w, args in dockerfile_instructions() if w == "RUN")
    assert re.search(r"pip install \.(\s|$)", runs), "the image installs the project with `pip install .`"
    assert "torch" not in runs and "[st]" not in runs and "sentence-transformers" not in runs


def test_index_is_built_at_image_build_from_the_copied_seeds():
    stage = final_stage()
    env = " ".join(args for w, args in stage if w == "ENV")
    assert "NEWSBOT_SEEDS_DIR=/app/seeds" in env and "NEWSBOT_INDEX_DIR=/app/index" in env
    copies = [i for i, (w, args) in enumerate(stage) if w == "COPY" and args.split()[0].rstrip("/") == "seeds"]
    index_runs = [i for i, (w, args) in enumerate(stage) if w == "RUN" and "newsbot index" in args]
    users = [i for i, (w, _) in enumerate(stage) if w == "USER"]
    assert copies and index_runs and users
    assert copies[0] < index_runs[0] and users[0] < index_runs[0], "index built by the bot's user, after the seeds"


def test_healthcheck_hits_healthz_with_python():
    check = one(final_stage(), "HEALTHCHECK")
    assert "CMD" in check
    assert "/healthz" in check and "urllib" in check and "curl" not in check
    assert "127.0.0.1:${NEWSBOT_HTTP_PORT:-3000}" in check


def test_exposes_the_port_and_runs_serve_as_pid_1():
    stage = final_stage()
    assert str(DEFAULT_PORT) in one(stage, "EXPOSE").split()
    assert json.loads(one(stage, "ENTRYPOINT")) == ["newsbot"]  # exec form: signals reach the bot
    assert json.loads(one(stage, "CMD")) == ["serve"]
    assert one(stage, "STOPSIGNAL") == "SIGTERM"


def test_build_context_keeps_secrets_and_local_state_out():
    patterns = [
        ln.strip()
        for ln in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    for needed in (".env", ".git", ".venv", "index"):
        assert needed in patterns, f".dockerignore should exclude {needed}"
    for kept in ("seeds", "bot", "pyproject.toml"):
        assert kept not in patterns and (ROOT / kept).exists()


# ---------------------------------------------------------------- compose.yaml


@pytest.fixture(scope="module")
def bot_service() -> dict:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    (service,) = compose["services"].values()
    service["_named_volumes"] = set(compose.get("volumes") or {})
    return service


def duration_seconds(value: str) -> float:
    """Compose and systemd durations: 30s, 1m30s, 90 (seconds)."""
    value = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h)", value)
    assert parts and "".join(n + u for n, u in parts) == value.replace(" ", ""), value
    return sum(float(n) * units[u] for n, u in parts)


def mounts(service: dict) -> dict[str, dict]:
    """target -> {type, source, read_only}, from long or short volume syntax."""
    out = {}
    for v in service.get("volumes", []):
        if isinstance(v, str):
            source, target, *mode = v.split(":")
            kind = "bind" if source.startswith((".", "/", "~")) else "volume"
            v = {"type": kind, "source": source, "target": target, "read_only": mode == ["ro"]}
        out[v["target"]] = v
    return out


def test_compose_reads_settings_from_dot_env(bot_service):
    env_file = bot_service["env_file"]
    assert env_file == ".env" or ".env" in env_file


def test_compose_mounts_seeds_read_only_and_index_as_a_named_volume(bot_service):
    env = bot_service["environment"]
    m = mounts(bot_service)
    seeds, index = m[env["NEWSBOT_SEEDS_DIR"]], m[env["NEWSBOT_INDEX_DIR"]]
    assert seeds["type"] == "bind" and seeds["read_only"] is True
    assert (ROOT / seeds["source"]).resolve() == (ROOT / "seeds").resolve()
    assert index["type"] == "volume" and index["source"] in bot_service["_named_volumes"]
    # the same paths the image builds its index in, so the volume starts out filled
    dockerfile_env = " ".join(a for w, a in final_stage() if w == "ENV")
    assert f"NEWSBOT_INDEX_DIR={env['NEWSBOT_INDEX_DIR']}" in dockerfile_env


def test_compose_publishes_the_http_port(bot_service):
    port = str(bot_service["environment"]["NEWSBOT_HTTP_PORT"])
    assert any(str(p).split(":")[-1] == port for p in bot_service["ports"])


def test_compose_restarts_and_waits_longer_than_the_grace(bot_service):
    assert bot_service["restart"] == "unless-stopped"
    assert bot_service.get("stop_signal", "SIGTERM") == "SIGTERM"
    assert duration_seconds(bot_service["stop_grace_period"]) > DEFAULT_GRACE


# ---------------------------------------------------------------- systemd


@pytest.fixture(scope="module")
def unit() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((ROOT / "deploy" / "newsbot.service").read_text(encoding="utf-8"))
    return parser


def test_unit_restarts_on_failure_with_a_dedicated_user(unit):
    svc = unit["Service"]
    assert svc["Restart"] == "on-failure"
    assert svc["User"] not in ("root", "0") and svc["User"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_unit_reads_settings_from_an_environment_file(unit):
    assert PurePosixPath(unit["Service"]["EnvironmentFile"].lstrip("-")).is_absolute()


def test_unit_runs_serve_and_reloads_with_sighup(unit):
    svc = unit["Service"]
    assert shlex.split(svc["ExecStart"]) == ["/opt/newsbot/.venv/bin/newsbot", "serve"]
    reload = shlex.split(svc["ExecReload"])
    assert reload[0].endswith("kill") and "-HUP" in reload and "$MAINPID" in reload


def test_unit_stops_with_sigterm_after_the_grace(unit):
    svc = unit["Service"]
    assert svc["KillSignal"] == "SIGTERM"
    assert duration_seconds(svc["TimeoutStopSec"]) > DEFAULT_GRACE


def test_unit_is_hardened_and_may_write_only_the_index(unit):
    svc = unit["Service"]
    assert svc["NoNewPrivileges"] == "yes" and svc["PrivateTmp"] == "yes"
    assert svc["ProtectSystem"] == "strict"
    # the default NEWSBOT_INDEX_DIR is relative to WorkingDirectory
    index_dir = PurePosixPath(svc["WorkingDirectory"]) / str(Settings.model_fields["index_dir"].default)
    assert str(index_dir) in svc["ReadWritePaths"].split()


def test_env_example_works_as_a_systemd_environment_file():
    """systemd's EnvironmentFile= takes KEY=value lines and comments, nothing else."""
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", line), line


# ---------------------------------------------------------------- docs


def test_deploy_docs_cover_each_way_to_run_it():
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for heading in ("Docker", "systemd", "Scaling out"):
        assert re.search(rf"^##+ .*{heading}", text, re.MULTILINE), heading
    for fact in (
        "kill -s HUP",
        "systemctl reload",
        "NEWSBOT_WATCH_SEEDS",
        "NEWSBOT_DISCORD_SHARD_COUNT",
        "newsbot index",
        "newsbot doctor",
        "not built",
    ):
        assert fact in text, fact
