"""Engine.refresh across processes and failures: --force, reloads, one writer, the old index answering.

Every process here is real (tests/retrieval/index_worker.py), with the real model and a
real FAISS index on disk; failures come from real OS conditions, named in each test.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.core import messages
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.engine import Engine
from bot.retrieval.indexing import embed_text
from bot.retrieval.store import read_manifest
from tests.conftest import ROOT, make_settings
from tests.retrieval.test_index import ALPHA, BETA, GAMMA, write

TIMEOUT = 120  # seconds for one worker process; they take about two


def config(corpus: Path, **overrides) -> RetrievalConfig:
    return RetrievalConfig.from_settings(make_settings(corpus, **overrides))


def worker_command(corpus: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "tests.retrieval.index_worker", str(corpus / "seeds"), str(corpus / "index"), *args]


def run_worker(corpus: Path, *args: str) -> tuple[int, dict, str]:
    """Exit code, the printed result, the logs."""
    proc = subprocess.run(worker_command(corpus, *args), cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    return proc.returncode, json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


class Worker:
    """A worker whose output (logs, then its result) is read as it comes, so a test waits for a line."""

    def __init__(self, corpus: Path):
        self.proc = subprocess.Popen(
            worker_command(corpus), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._q.put(line)
        self._q.put(None)

    def wait_for(self, text: str) -> None:
        while not any(text in line for line in self.lines):
            line = self._q.get(timeout=TIMEOUT)
            assert line is not None, f"the worker ended without logging {text!r}: {self.lines}"
            self.lines.append(line)

    def result(self) -> dict:
        assert self.proc.wait(timeout=TIMEOUT) == 0
        while (line := self._q.get(timeout=TIMEOUT)) is not None:
            self.lines.append(line)
        return json.loads(self.lines[-1])


def make_lock_unopenable(corpus: Path) -> None:
    """A real OS error for any user, root included: a folder where the lock file goes cannot be opened."""
    lock = corpus / "index" / ".lock"
    lock.unlink()
    lock.mkdir()


def current_manifest(corpus: Path) -> Path:
    return Path(os.path.realpath(corpus / "index" / "current")) / "manifest.json"


def counting(embedder) -> list[str]:
    """The texts this process embeds from now on (the test deletes the wrapper afterwards)."""
    texts: list[str] = []
    real = embedder.passages
    embedder.passages = lambda batch: texts.extend(batch) or real(batch)
    return texts


@pytest.fixture
def count_embeddings(embedder):
    yield lambda: counting(embedder)
    embedder.__dict__.pop("passages", None)


def test_force_re_embeds_every_file(corpus, embedder, count_embeddings):
    write(corpus, "a.txt", ALPHA)
    write(corpus, "b.txt", BETA)
    engine = Engine.open(make_settings(corpus), embedder=embedder)
    passages = {embed_text(p) for p in engine.data.passages}
    embedded = count_embeddings()
    report = engine.refresh(force=True)
    assert report.rebuilt_because == messages.INDEX_REBUILD_FORCED
    assert sorted(report.added) == ["a.txt", "b.txt"] and report.unchanged == 0
    assert passages <= set(embedded)  # every passage, unchanged files too
    assert engine.refresh() is None


def test_the_engine_picks_up_an_index_another_process_updated(corpus, embedder, count_embeddings):
    write(corpus, "a.txt", ALPHA)
    engine = Engine.open(make_settings(corpus), embedder=embedder)
    write(corpus, "c.txt", GAMMA)
    code, out, err = run_worker(corpus)
    assert code == 0, err
    assert out["report"]["added"] == ["c.txt"] and out["embedded"] > 0
    embedded = count_embeddings()
    assert engine.refresh() is None  # fresh on disk: nothing to build here
    assert embedded == []
    assert {p.source for p in engine.data.passages} == {"a.txt", "c.txt"}
    assert engine.ask("Berapa harga kopi luwak per kilogram?").sources[0] == "c.txt"


def test_two_builds_at_once_embed_once(corpus):
    """Both builders start while the write lock is held, so both must wait; released, one builds.

    The test holds the lock itself to make the overlap certain without timing; it waits on
    each process's "waiting" log line, not on a clock.
    """
    write(corpus, "a.txt", ALPHA)
    write(corpus, "b.txt", BETA)
    (corpus / "index").mkdir()
    fd = os.open(corpus / "index" / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    workers = [Worker(corpus) for _ in range(2)]
    try:
        for worker in workers:
            worker.wait_for("Another process is building the index")
    finally:
        os.close(fd)
    outs = [worker.result() for worker in workers]
    built, waited = sorted(outs, key=lambda o: o["report"] is None)
    assert sorted(built["report"]["added"]) == ["a.txt", "b.txt"] and built["embedded"] > 0
    assert waited["report"] is None and waited["embedded"] == 0  # found the other's index fresh
    assert built["files"] == waited["files"] == ["a.txt", "b.txt"]


def test_a_read_only_index_folder_answers_from_the_old_index(corpus, embedder):
    """The worker runs without root's permission override, so the chmod'ed folder is really read-only."""
    write(corpus, "a.txt", ALPHA)
    write(corpus, "b.txt", BETA)
    Engine.open(make_settings(corpus), embedder=embedder)
    before = os.readlink(corpus / "index" / "current")
    write(corpus, "c.txt", GAMMA)
    (corpus / "index").chmod(0o555)
    try:
        question = "Where did Volcano Robotics open a lab?"
        code, out, err = run_worker(corpus, "--open", "--no-root-override", "--ask", question)
    finally:
        (corpus / "index").chmod(0o755)
    assert code == 0, out
    assert "The index could not be updated, so answers come from the previous one" in err
    assert f"Cannot write the index to {corpus / 'index'}: Permission denied" in err
    assert out["files"] == ["a.txt", "b.txt"] and out["embedded"] == 0  # gave up before embedding
    assert out["answer"] == {"answered": True, "sources": ["b.txt"]}
    assert os.readlink(corpus / "index" / "current") == before


def test_a_read_only_folder_without_an_index_is_an_error(corpus):
    write(corpus, "a.txt", ALPHA)
    (corpus / "index").mkdir(mode=0o555)
    try:
        code, out, _ = run_worker(corpus, "--open", "--no-root-override")
    finally:
        (corpus / "index").chmod(0o755)
    assert code == 1
    assert out["error"].startswith(f"Cannot write the index to {corpus / 'index'}: Permission denied")


def test_a_full_disk_answers_from_the_old_index_and_says_the_disk_is_full(corpus, embedder):
    """RLIMIT_FSIZE makes the kernel cut the worker's writes short (then EFBIG), as a full disk does.

    Mounting a small tmpfs would need privileges the tests may not have; this needs none.
    """
    write(corpus, "a.txt", ALPHA)
    write(corpus, "b.txt", BETA)
    Engine.open(make_settings(corpus), embedder=embedder)
    before = sorted(p.name for p in (corpus / "index").iterdir())
    write(corpus, "c.txt", GAMMA)
    question = "Berapa nilai pembelian Kelinci Emas oleh Startup Nusantara?"
    code, out, err = run_worker(corpus, "--open", "--max-file-size", "2048", "--ask", question)
    assert code == 0, out
    assert f"Cannot write the index to {corpus / 'index'}: the disk is full" in err
    assert "requested and" not in err.split("the disk is full")[0]  # the cause comes first, in words
    assert out["files"] == ["a.txt", "b.txt"]
    assert out["answer"] == {"answered": True, "sources": ["a.txt"]}
    assert sorted(p.name for p in (corpus / "index").iterdir()) == before  # nothing half-written left


def test_refresh_itself_still_raises_for_the_index_command(corpus, embedder):
    """`newsbot index` must fail when it cannot write; only open() (ask, serve) falls back."""
    from bot.core.errors import IndexWriteError

    write(corpus, "a.txt", ALPHA)
    engine = Engine.open(make_settings(corpus), embedder=embedder)
    write(corpus, "b.txt", BETA)
    make_lock_unopenable(corpus)
    with pytest.raises(IndexWriteError, match="Cannot write the index"):
        engine.refresh()
    report = engine.refresh(keep_old_on_failure=True)
    assert report.warnings and "Is a directory" in report.warnings[0]
    assert {p.source for p in engine.data.passages} == {"a.txt"}
    assert read_manifest(corpus / "index")["files"].keys() == {"a.txt"}


def test_an_index_from_another_model_is_not_used_as_the_fallback(corpus, embedder):
    """Its vectors mean nothing to this model: no index is better than a wrong one."""
    from bot.core.errors import IndexWriteError

    write(corpus, "a.txt", ALPHA)
    Engine.open(make_settings(corpus), embedder=embedder)
    manifest_path = current_manifest(corpus)
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "model": "some-other-model"}))
    make_lock_unopenable(corpus)
    with pytest.raises(IndexWriteError, match="Is a directory"):
        Engine.open(make_settings(corpus), embedder=embedder)
