"""The index folder itself: damaged parts, a copied `current`, leftovers of killed builds, disk errors."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.core import messages
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.engine import Engine
from bot.retrieval.store import load_index, prune, write_error
from tests.conftest import make_settings
from tests.retrieval.test_index import ALPHA, BETA, GAMMA, write


def current_folder(index: Path) -> Path:
    return Path(os.path.realpath(index / "current"))


def open_engine(corpus: Path, embedder, index: str = "index") -> Engine:
    return Engine.open(make_settings(corpus, index_dir=corpus / index), embedder=embedder)


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def words_of_another_index(corpus: Path, embedder, lexicon: Path) -> None:
    """What a copy mixing two generations leaves: each file whole, but from different builds."""
    other = corpus / "other"
    (other / "seeds").mkdir(parents=True)
    (other / "seeds" / "g.txt").write_text(GAMMA, encoding="utf-8")
    Engine.open(make_settings(other), embedder=embedder)
    shutil.copy(current_folder(other / "index") / "lexicon" / "words.txt", lexicon / "words.txt")


@pytest.mark.parametrize(
    "damage",
    [
        lambda corpus, embedder, lexicon: truncate(lexicon / "docs.npy"),
        lambda corpus, embedder, lexicon: (lexicon / "words.txt").unlink(),
        words_of_another_index,
    ],
    ids=["truncated-counts", "missing-words", "words-of-another-build"],
)
def test_a_damaged_lexicon_is_detected_and_rebuilt(corpus, embedder, caplog, damage):
    write(corpus, "a.txt", ALPHA)
    write(corpus, "b.txt", BETA)
    open_engine(corpus, embedder)
    damage(corpus, embedder, current_folder(corpus / "index") / "lexicon")
    engine = Engine(RetrievalConfig.from_settings(make_settings(corpus)), embedder)
    with caplog.at_level(logging.WARNING):
        report = engine.refresh()
    assert "is damaged" in caplog.text and "rebuilding it" in caplog.text
    assert report.rebuilt_because.startswith("damaged index")
    assert load_index(corpus / "index").manifest["passages"] == len(engine.data.passages)
    assert engine.ask("Where did Volcano Robotics open a lab?").sources[0] == "b.txt"


def test_a_current_copied_as_a_real_folder_is_adopted(corpus, embedder, caplog):
    """`cp -rL index copy` turns the `current` link into a folder; updates must still work."""
    write(corpus, "a.txt", ALPHA)
    open_engine(corpus, embedder)
    shutil.copytree(corpus / "index", corpus / "copy", symlinks=False)
    assert not (corpus / "copy" / "current").is_symlink()
    write(corpus, "b.txt", BETA)
    with caplog.at_level(logging.WARNING):
        engine = open_engine(corpus, embedder, index="copy")
    assert "was a folder, not a link" in caplog.text
    assert {p.source for p in engine.data.passages} == {"a.txt", "b.txt"}
    write(corpus, "c.txt", GAMMA)
    report = engine.refresh()
    assert report.added == ("c.txt",) and report.unchanged == 2  # the adopted vectors were reused
    names = sorted(p.name for p in (corpus / "copy").iterdir())
    assert (corpus / "copy" / "current").is_symlink()
    assert [n for n in names if not n.startswith("gen-")] == [".lock", "current"]  # no stray link or folder
    gens = [n for n in names if n.startswith("gen-")]
    assert current_folder(corpus / "copy").name in gens and len(gens) > 1  # older ones wait out their grace time
    assert sorted(prune(corpus / "copy", grace=0)) == sorted(set(gens) - {current_folder(corpus / "copy").name})
    assert load_index(corpus / "copy").manifest["files"].keys() == {"a.txt", "b.txt", "c.txt"}


def test_a_build_killed_midway_leaves_nothing_after_the_next_build(corpus, embedder, caplog):
    write(corpus, "a.txt", ALPHA)
    engine = open_engine(corpus, embedder)
    stray = corpus / "index" / ".tmp-x"  # what a build killed while writing leaves behind
    stray.mkdir()
    (stray / "passages.faiss").write_bytes(b"\0" * 1000)
    write(corpus, "b.txt", BETA)
    with caplog.at_level(logging.INFO):
        engine.refresh()
    assert not stray.exists()
    assert "Removed 1 unfinished index build" in caplog.text


def test_a_full_disk_is_named_as_such():
    """/dev/full fails every write with ENOSPC; numpy turns that into "N requested and M written"."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "wb", buffering=0) as f, pytest.raises(OSError) as caught:
        np.save(f, np.zeros((100, 384), np.float32), allow_pickle=False)
    message = str(write_error(Path("/srv/index"), caught.value))
    assert message.startswith("Cannot write the index to /srv/index: the disk is full")
    assert "NEWSBOT_INDEX_DIR" in message


def test_a_permission_problem_is_not_called_a_full_disk(tmp_path):
    with pytest.raises(OSError) as caught:
        (tmp_path / "a-file").write_text("x")
        (tmp_path / "a-file" / "inside").mkdir()  # a real ENOTDIR, for root as for anyone
    message = str(write_error(tmp_path, caught.value))
    assert message == messages.INDEX_NOT_WRITABLE.format(path=tmp_path, detail="Not a directory")
