"""Questions per second through the Slack HTTP endpoint: one `newsbot serve` replica against two.

    .venv/bin/python bench/replicas.py [--requests 200] [--concurrency 16] [--rounds 1]
                                       [--store auto|postgres|sqlite] [--json bench/results/replicas.json]

Each replica is a real `newsbot serve` process in Slack HTTP mode on 127.0.0.1. They read one
index folder (built once by a `newsbot index` job, as on a shared volume) and share one store:
a PostgreSQL server this script starts from the Debian package (tests/state/pgserver.py), or a
SQLite file when PostgreSQL is not installed. Every request goes through that store (replay
de-duplication, the per-user rate limit, the answer's feedback record).

The client sends signed `/ask` slash commands, at most `--concurrency` waiting for their reply,
round-robin over the replicas (standing in for a load balancer). A request counts when its
reply (an answer or a decline, not "busy") reaches its response_url, served by the local Slack
stand-in (tests/platforms/slack_standin.py); latency runs from sending the request to that reply.
The same questions (the shared development sets, covered and not) go to each configuration, in
runs ordered 1, 2, 2, 1 replica(s) so that a drift in the machine's other load weighs on both;
each configuration's figures pool its runs. "cores" are CPU seconds over wall time: the replicas
("bot"), the PostgreSQL server ("store") and this script ("client", the stand-in included), all
on the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import numpy as np
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core import messages  # noqa: E402
from tests.platforms.slack_standin import APP_ID, TEAM_ID, SlackStandIn  # noqa: E402
from tests.state.pgserver import PgServer, unavailable  # noqa: E402

SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-bench-bot-token"
SHARED_EVAL = ROOT.parent / "shared" / "eval"
FALLBACK_QUESTIONS = [
    "Who is Anthropic's new CTO?",
    "Siapa CTO baru Anthropic?",
    "Who leads Meta's superintelligence unit?",
    "What is the weather in Jakarta today?",
]
# Replies that are not the work measured: the service refusing or failing, not answering.
REFUSALS = {
    messages.say(name, lang).split("{")[0]
    for name in ("BUSY", "SHUTTING_DOWN", "APOLOGY", "RATE_LIMITED")
    for lang in ("en", "id")
}
ORDER = (1, 2, 2, 1)
DECLINES = {messages.say("NOT_COVERED", lang) for lang in ("en", "id")}


def questions() -> list[str]:
    """The shared development questions, covered and not covered, interleaved."""
    sets = []
    for name in ("dev_questions.jsonl", "dev_uncovered.jsonl"):
        path = SHARED_EVAL / name
        if path.exists():
            sets.append([json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line])
    if not sets:
        return FALLBACK_QUESTIONS
    return [q for pair in itertools.zip_longest(*sets) for q in pair if q]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TimedSlack(SlackStandIn):
    """The Slack stand-in, noting when each response_url message arrived; a waiter per name, so that
    hundreds of waiting clients cost the benchmark's own process nothing."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.replies: dict[str, asyncio.Future] = {}

    def expect(self, name: str) -> asyncio.Future:
        """Resolves to (arrival time, body) when `/response/{name}` is posted to."""
        return self.replies.setdefault(name, asyncio.get_running_loop().create_future())

    async def _response_url(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        body = await request.json()
        waiter = self.expect(request.match_info["name"])
        if not waiter.done():
            waiter.set_result((arrived, body))
        return web.Response(text="ok")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pg_cpu_seconds(postmaster: int | None) -> float:
    """The PostgreSQL server's CPU time: the postmaster and its live children (the backends)."""
    if postmaster is None:
        return 0.0
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid = int(stat.parent.name)
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if postmaster in (pid, ppid):
                total += cpu_seconds(pid)
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return total


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Replica:
    def __init__(self, name: str, proc: asyncio.subprocess.Process, port: int, log: Path):
        self.name, self.proc, self.port, self.log = name, proc, port, log
        self.url = f"http://127.0.0.1:{port}"

    async def wait_ready(self, session: aiohttp.ClientSession, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise RuntimeError(f"replica {self.name} exited:\n{self.log.read_text()[-2000:]}")
            try:
                async with session.get(self.url + "/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError(f"replica {self.name} not ready in {timeout}s:\n{self.log.read_text()[-2000:]}")

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 60)


def base_env(shared: Path, store_url: str, slack: SlackStandIn) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "SLACK_", "DISCORD_"))}
    env.update(
        NEWSBOT_SEEDS_DIR=str(shared / "seeds"),
        NEWSBOT_INDEX_DIR=str(shared / "index"),
        NEWSBOT_DATABASE_URL=store_url,
        NEWSBOT_LOG_FORMAT="json",
        NEWSBOT_SLACK_EPHEMERAL="true",  # every answer goes to its own response_url
        NEWSBOT_RATE_LIMIT_PER_MINUTE="60",  # per user; each request has its own user: counted, never limiting
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        NEWSBOT_SLACK_API_URL=slack.base_url,
    )
    return env


async def start_replica(name: str, root: Path, env: dict[str, str]) -> Replica:
    port = free_port()
    (root / name).mkdir()
    log = root / name / "serve.log"
    env = dict(env, NEWSBOT_HTTP_HOST="127.0.0.1", NEWSBOT_HTTP_PORT=str(port), NEWSBOT_DATA_DIR=str(root / name))
    with open(log, "w") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "serve",
            cwd=root / name,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    return Replica(name, proc, port, log)


def signed(text: str, response_url: str, user: str) -> tuple[str, dict[str, str]]:
    body = urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "channel_id": "C0BENCH",
            "user_id": user,
            "command": "/ask",
            "text": text,
            "api_app_id": APP_ID,
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body),
    }
    return body, headers


def kind(reply: dict) -> str:
    text = reply.get("text", "")
    if any(text.startswith(r) for r in REFUSALS):
        return "refused"
    if text in DECLINES:
        return "declined"
    return "answered" if "[1]" in json.dumps(reply, ensure_ascii=False) else "other"


async def run(
    session: aiohttp.ClientSession,
    slack: TimedSlack,
    replicas: list[Replica],
    asked: list[str],
    concurrency: int,
    label: str,
    pg_pid: int | None = None,
    timeout: float = 120,
) -> dict:
    """`len(asked)` slash commands, round-robin over `replicas`; each waits for its reply before its slot frees."""
    slots = asyncio.Semaphore(concurrency)
    latencies: dict[str, float] = {}
    kinds: dict[str, int] = {}
    cpu_before = [cpu_seconds(r.proc.pid) for r in replicas]
    others_before = (own_cpu_seconds(), pg_cpu_seconds(pg_pid))

    async def one(i: int, question: str) -> None:
        name = f"{label}-{i}-{uuid.uuid4().hex[:6]}"
        body, headers = signed(question, slack.response_url(name), user=f"U{label.upper()}{i:05d}")
        async with slots:
            sent = time.perf_counter()
            async with session.post(replicas[i % len(replicas)].url + "/slack/events", data=body, headers=headers) as r:
                if r.status != 200:
                    kinds[f"http {r.status}"] = kinds.get(f"http {r.status}", 0) + 1
                    return
            arrived, reply = await asyncio.wait_for(slack.expect(name), timeout)
        k = kind(reply)
        kinds[k] = kinds.get(k, 0) + 1
        if k in ("answered", "declined"):
            latencies[name] = arrived - sent

    started = time.perf_counter()
    await asyncio.gather(*(one(i, q) for i, q in enumerate(asked)))
    seconds = time.perf_counter() - started
    return {
        "replicas": len(replicas),
        "requests": len(asked),
        "replies": dict(sorted(kinds.items())),
        "seconds": round(seconds, 3),
        "cpu_seconds_per_replica": [
            round(cpu_seconds(r.proc.pid) - b, 2) for r, b in zip(replicas, cpu_before, strict=True)
        ],
        "cpu_seconds_client": round(own_cpu_seconds() - others_before[0], 2),
        "cpu_seconds_store": round(pg_cpu_seconds(pg_pid) - others_before[1], 2) if pg_pid else None,
        "latencies_ms": [round(v * 1000, 1) for v in latencies.values()],
    }


def summary(runs: list[dict]) -> dict:
    """One configuration's runs pooled: counted replies over the seconds they took, latency percentiles."""
    lat = np.array([v for r in runs for v in r["latencies_ms"]])
    seconds = sum(r["seconds"] for r in runs)
    return {
        "replicas": runs[0]["replicas"],
        "runs": len(runs),
        "requests": sum(r["requests"] for r in runs),
        "counted": len(lat),
        "seconds": round(seconds, 2),
        "qps": round(len(lat) / seconds, 2),
        "p50_ms": round(float(np.percentile(lat, 50)), 1) if len(lat) else None,
        "p99_ms": round(float(np.percentile(lat, 99)), 1) if len(lat) else None,
        "cpu_cores_used": round(sum(sum(r["cpu_seconds_per_replica"]) for r in runs) / seconds, 2),
        "store_cores_used": round(sum(r["cpu_seconds_store"] or 0 for r in runs) / seconds, 2),
        "client_cores_used": round(sum(r["cpu_seconds_client"] for r in runs) / seconds, 2),
    }


async def bench(args, root: Path, store_url: str, store_kind: str, pg_pid: int | None) -> dict:
    shared = root / "shared"
    shutil.copytree(ROOT / "seeds", shared / "seeds")
    if (ROOT / "index" / "current").exists():
        shutil.copytree(ROOT / "index", shared / "index", symlinks=True)
    slack = await TimedSlack().start()
    env = base_env(shared, store_url, slack)
    # one index job writes the shared index (a no-op when the copy is current); the replicas only read it
    job = subprocess.run([sys.executable, "-m", "bot.cli", "index"], cwd=root, env=env, capture_output=True, text=True)
    if job.returncode != 0:
        raise RuntimeError(f"newsbot index failed ({job.returncode}):\n{job.stdout}{job.stderr}")
    replicas: list[Replica] = []
    try:
        for name in ("a", "b"):
            replicas.append(await start_replica(name, root, env))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.concurrency * 2)) as session:
            await asyncio.gather(*(r.wait_ready(session) for r in replicas))
            asked = list(itertools.islice(itertools.cycle(questions()), args.requests))
            warm = questions()[:4]
            for replica in replicas:  # the first request checks the token (auth.test) and warms the model
                await run(session, slack, [replica], warm, 1, f"warm{replica.name}")
            loadavg_before = os.getloadavg()
            runs = []
            for i, count in enumerate(ORDER * args.rounds):  # 1, 2, 2, 1, ...: drift in the machine's load cancels
                runs.append(
                    await run(session, slack, replicas[:count], asked, args.concurrency, f"r{i}n{count}", pg_pid)
                )
            loadavg_after = os.getloadavg()
        rss = [round(rss_mb(r.proc.pid), 1) for r in replicas]
    finally:
        codes = [await r.stop() for r in replicas]
        await slack.close()
    one, two = (summary([r for r in runs if r["replicas"] == n]) for n in (1, 2))
    for r in runs:
        r["latencies_ms"] = sorted(r["latencies_ms"])
    return {
        "what": "questions/s through POST /slack/events (signed /ask), reply counted at its response_url",
        "host": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_1m_before_after": [round(loadavg_before[0], 2), round(loadavg_after[0], 2)],
        },
        "store": store_kind,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "summary": [one, two],
        "ratio_2_vs_1": round(two["qps"] / one["qps"], 2) if one["qps"] else None,
        "rss_mb_per_replica": rss,
        "exit_codes": codes,
        "runs": runs,
    }


def print_table(report: dict) -> None:
    host = report["host"]
    print(
        f"store: {report['store']}; {report['requests']} requests a run, concurrency {report['concurrency']};"
        f" {host['cores']} cores, 1-min load {host['loadavg_1m_before_after']} (before/after)"
    )
    print(
        f"{'replicas':>8} {'runs':>4} {'requests':>8} {'counted':>7} {'seconds':>8} {'qps':>7} {'p50 ms':>8}"
        f" {'p99 ms':>8} {'cores: bot':>10} {'store':>5} {'client':>6} {'ratio':>6}"
    )
    base = report["summary"][0]["qps"]
    for r in report["summary"]:
        ratio = f"{r['qps'] / base:.2f}" if base else "-"
        print(
            f"{r['replicas']:>8} {r['runs']:>4} {r['requests']:>8} {r['counted']:>7} {r['seconds']:>8.2f}"
            f" {r['qps']:>7.1f} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['cpu_cores_used']:>10} {r['store_cores_used']:>5}"
            f" {r['client_cores_used']:>6} {ratio:>6}"
        )
    for r in report["runs"]:
        print(f"  run: {r['replicas']} replica(s), {r['seconds']:.2f} s, replies {r['replies']}")
    print("rss MB per replica:", report["rss_mb_per_replica"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=1, help="each round runs 1, 2, 2, 1 replica(s)")
    ap.add_argument("--store", choices=("auto", "postgres", "sqlite"), default="auto")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "replicas.json")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="newsbot-replicas-"))
    server = None
    try:
        reason = unavailable()
        if args.store == "postgres" and reason:
            sys.exit(f"PostgreSQL unavailable: {reason}")
        if args.store != "sqlite" and not reason:
            server = PgServer()
            server.start()
            store_url, store_kind = server.new_database(), f"postgresql ({server.bin.parts[-2]})"
        else:
            store_url, store_kind = f"sqlite:///{root / 'shared-state.sqlite3'}", "sqlite (one file, WAL)"
        pg_pid = int((server.data / "postmaster.pid").read_text().split()[0]) if server else None
        report = asyncio.run(bench(args, root, store_url, store_kind, pg_pid))
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    print_table(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")


if __name__ == "__main__":
    main()
