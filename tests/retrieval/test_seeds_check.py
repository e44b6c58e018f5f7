"""NEWSBOT_SEEDS_CHECK=folders: a stat per folder instead of per file, and what it cannot see.

A real index of articles written for this test (English and Spanish) in two folders, the
real model; the trade-off is asserted both ways: added, removed and renamed files are seen
at once, a file rewritten in place only by the next full listing.
"""

from __future__ import annotations

import os

import pytest

from bot.retrieval import indexing, loading
from bot.retrieval.engine import Engine
from tests.conftest import make_settings

PORT = (
    "Puerto Lumbre abre una terminal de hidrógeno\n\n"
    "La autoridad portuaria de Puerto Lumbre inauguró una terminal de hidrógeno verde. "
    "La terminal costó 210 millones de euros y empleará a 140 personas.\n"
)
MILL = (
    "Old Grey mill turns to solar panels\n\n"
    "The Old Grey paper mill in Tannby now makes solar panel frames. "
    "Its owner, Marta Lindqvist, said 60 workers kept their jobs.\n"
)
BAKERY = (
    "Tannby bakery wins regional prize\n\n"
    "The Kornblom bakery in Tannby won the regional bread prize for its rye loaf. "
    "Baker Ivo Sandell said the recipe came from his grandmother.\n"
)


@pytest.fixture
def archive(tmp_path, embedder):
    (tmp_path / "seeds" / "es").mkdir(parents=True)
    (tmp_path / "seeds" / "es" / "puerto.txt").write_text(PORT, encoding="utf-8")
    (tmp_path / "seeds" / "mill.txt").write_text(MILL, encoding="utf-8")
    settings = make_settings(tmp_path, seeds_check="folders")
    Engine.open(settings, embedder=embedder)  # builds, recording the folders
    return tmp_path, settings


def no_listing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("every seed file was listed")

    monkeypatch.setattr(indexing, "list_seed_files", refuse)
    monkeypatch.setattr(indexing, "seeds_match", refuse)


def test_an_unchanged_archive_is_fresh_without_listing_its_files(archive, embedder, monkeypatch):
    _, settings = archive
    manifest = Engine.open(settings, embedder=embedder).data.manifest
    assert set(manifest["folders"]) == {"", "es/"}
    no_listing(monkeypatch)
    engine = Engine.open(settings, embedder=embedder)
    assert "Lindqvist" in engine.ask("Who owns the Old Grey mill?").passages[0].text


@pytest.mark.parametrize("change", ["add", "remove", "rename", "add_folder"])
def test_added_removed_and_renamed_files_are_seen_at_once(archive, embedder, change):
    root, settings = archive
    seeds = root / "seeds"
    if change == "add":
        (seeds / "es" / "bakery.txt").write_text(BAKERY, encoding="utf-8")
    elif change == "remove":
        (seeds / "mill.txt").unlink()
    elif change == "rename":
        (seeds / "mill.txt").rename(seeds / "es" / "mill.txt")
    else:
        (seeds / "news").mkdir()
        (seeds / "news" / "bakery.txt").write_text(BAKERY, encoding="utf-8")
    engine = Engine.open(settings, embedder=embedder)
    sources = set(engine.data.manifest["files"])
    expected = {
        "add": {"es/puerto.txt", "mill.txt", "es/bakery.txt"},
        "remove": {"es/puerto.txt"},
        "rename": {"es/puerto.txt", "es/mill.txt"},
        "add_folder": {"es/puerto.txt", "mill.txt", "news/bakery.txt"},
    }[change]
    assert sources == expected


def test_a_file_rewritten_in_place_waits_for_a_full_listing(archive, embedder):
    root, settings = archive
    mill = root / "seeds" / "mill.txt"
    folder_time = os.stat(mill.parent).st_mtime_ns
    mill.write_text(MILL.replace("Marta Lindqvist", "Jonas Berg"), encoding="utf-8")  # same inode, same folder
    assert os.stat(mill.parent).st_mtime_ns == folder_time
    stale = Engine.open(settings, embedder=embedder)
    assert "Lindqvist" in stale.ask("Who owns the Old Grey mill?").passages[0].text  # the trade-off
    full = Engine.open(make_settings(root, seeds_check="files"), embedder=embedder)
    assert "Jonas Berg" in full.ask("Who owns the Old Grey mill?").passages[0].text


def test_an_index_without_folders_lists_every_file(archive, embedder, monkeypatch):
    root, settings = archive
    recorded = Engine.open(settings, embedder=embedder).data.manifest["folders"]
    assert loading.folders_unchanged(root / "seeds", recorded)
    assert not loading.folders_unchanged(root / "seeds", {})  # nothing recorded: never trusted
    assert not loading.folders_unchanged(root / "seeds", {**recorded, "gone/": 1})
    listed = []
    real = indexing.seeds_match  # the files check: every file listed and stat-ed
    monkeypatch.setattr(indexing, "seeds_match", lambda *a, **k: listed.append(1) or real(*a, **k))
    monkeypatch.setattr(indexing, "folders_unchanged", lambda *a: False)
    Engine.open(settings, embedder=embedder)
    assert listed
