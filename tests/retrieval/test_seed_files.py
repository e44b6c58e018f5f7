"""Listing the seeds folder: links, loops, folders, size and binary content are refused by name."""

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import messages
from bot.core.errors import SeedsError
from bot.retrieval.engine import Engine
from bot.retrieval.loading import SUFFIXES, SeedFile, is_article_name, list_seed_files, parse_article
from tests.conftest import make_settings

ARTICLE = (
    "Volcano Robotics Opens A Lab In Oslo\n\n"
    "Volcano Robotics opened a research lab in Oslo with 40 engineers. "
    "The lab will build walking robots for warehouses.\n"
)
SECRET = (
    "Confidential Payroll Of The Whole Company\n\n"
    "The payroll lists every salary of the company in one long table of names. "
    "The chief executive earns nine million kroner a year according to it.\n"
)


@pytest.fixture
def seeds(tmp_path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text(ARTICLE, encoding="utf-8")
    return tmp_path / "seeds"


@pytest.fixture
def outside(tmp_path):
    (tmp_path / "private").mkdir()
    secret = tmp_path / "private" / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    return secret


def listed(seeds_dir, **kwargs) -> dict[str, SeedFile]:
    return {s.source: s for s in list_seed_files(seeds_dir, **kwargs)}


def test_a_link_out_of_the_seeds_folder_is_named_and_not_read(seeds, outside):
    (seeds / "p.txt").symlink_to(outside)
    (seeds / "sub").mkdir()
    (seeds / "sub" / "q.txt").symlink_to("../../private/secret.txt")  # relative links too
    files = listed(seeds)
    for name in ("p.txt", "sub/q.txt"):
        seed = files[name]
        assert seed.data == b""
        assert seed.skipped == messages.SKIP_OUTSIDE.format(target=outside.resolve())
        assert parse_article(seed) == seed.skipped
    assert parse_article(files["a.txt"]).text.startswith("Volcano Robotics opened")


def test_a_link_that_stays_inside_the_seeds_folder_is_read(seeds):
    (seeds / "sub").mkdir()
    (seeds / "sub" / "real.txt").write_text(ARTICLE.replace("Oslo", "Bergen"), encoding="utf-8")
    (seeds / "alias.txt").symlink_to("sub/real.txt")
    files = listed(seeds)
    assert not files["alias.txt"].skipped
    assert files["alias.txt"].data == files["sub/real.txt"].data


def test_a_seeds_folder_reached_through_a_link_still_reads_its_files(tmp_path, seeds):
    (tmp_path / "via").symlink_to(seeds)
    assert listed(tmp_path / "via")["a.txt"].data == ARTICLE.encode()


def test_link_loops_broken_links_and_folders_named_txt_are_named(seeds):
    (seeds / "loop1.txt").symlink_to("loop2.txt")
    (seeds / "loop2.txt").symlink_to("loop1.txt")
    (seeds / "gone.txt").symlink_to("nowhere.txt")
    (seeds / "archive.txt").mkdir()
    (seeds / "archive.txt" / "inner.txt").write_text(ARTICLE, encoding="utf-8")
    files = listed(seeds)
    assert files["loop1.txt"].skipped == files["loop2.txt"].skipped == messages.SKIP_LINK_LOOP
    assert files["gone.txt"].skipped == messages.SKIP_BROKEN_LINK.format(target=seeds / "nowhere.txt")
    assert files["archive.txt"].skipped == messages.SKIP_FOLDER.format(suffix=".txt")
    assert files["archive.txt/inner.txt"].data == ARTICLE.encode()  # what is inside is still read


def test_a_pipe_named_txt_is_named_not_read(seeds):
    os.mkfifo(seeds / "pipe.txt")  # reading it would block forever
    assert listed(seeds)["pipe.txt"].skipped == messages.SKIP_NOT_REGULAR


def test_files_over_the_size_limit_are_named_without_being_read(seeds):
    big = seeds / "big.txt"
    with big.open("wb") as f:  # sparse: 50 MB on paper, nothing on disk
        f.truncate(50_000_000)
    files = listed(seeds)  # the default limit is the setting's default
    assert files["big.txt"].data == b""
    assert files["big.txt"].skipped == messages.SKIP_TOO_LARGE.format(size=50_000_000, limit=2_000_000)

    (seeds / "mid.txt").write_text(ARTICLE * 40, encoding="utf-8")
    size = (seeds / "mid.txt").stat().st_size
    assert listed(seeds, max_bytes=size - 1)["mid.txt"].skipped.startswith(f"the file is {size:,} bytes")
    assert listed(seeds, max_bytes=size)["mid.txt"].data == (ARTICLE * 40).encode()


def test_a_skipped_file_has_a_stable_digest_that_follows_its_size_and_target(seeds, outside):
    link = seeds / "p.txt"
    link.symlink_to(outside)
    first = listed(seeds)["p.txt"].digest
    assert listed(seeds)["p.txt"].digest == first
    with outside.open("a", encoding="utf-8") as f:
        f.write("More payroll lines.\n")
    grown = listed(seeds)["p.txt"].digest
    assert grown != first
    other = outside.with_name("other.txt")
    other.write_text(SECRET, encoding="utf-8")
    link.unlink()
    link.symlink_to(other)
    assert listed(seeds)["p.txt"].digest not in (first, grown)


def test_binary_content_anywhere_in_the_file_is_refused():
    text = ("Volcano Robotics opened a research lab in Oslo with 40 engineers. " * 200).encode()
    assert len(text) > 8192
    assert parse_article(SeedFile("late-nul.txt", text + b"\x00tail")) == messages.SKIP_BINARY
    assert parse_article(SeedFile("late-ctl.txt", text + b"\x01\x02tail")) == messages.SKIP_BINARY
    # tabs, form feeds and escapes occur in text files: they are not binary
    ok = parse_article(SeedFile("ok.txt", b"A Headline For The Test\n\n" + text + b"\t\x0c\x1b[0m end."))
    assert not isinstance(ok, str)


def test_a_seeds_path_that_is_a_file_says_so(tmp_path):
    path = tmp_path / "seeds.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    with pytest.raises(SeedsError, match="is a file, not a folder") as exc:
        list_seed_files(path)
    assert "does not exist" not in str(exc.value)


def test_the_index_names_refused_files_and_never_quotes_them(tmp_path, seeds, outside, embedder):
    (seeds / "p.txt").symlink_to(outside)
    with (seeds / "big.txt").open("wb") as f:
        f.truncate(3_000_000)
    (seeds / "late.txt").write_bytes(SECRET.encode() * 60 + b"\x00")
    engine = Engine.open(make_settings(tmp_path), embedder=embedder)
    assert {p.source for p in engine.data.passages} == {"a.txt"}
    assert not any("payroll" in p.text.lower() for p in engine.data.passages)
    assert engine.refresh() is None  # refused files keep their digest: nothing to redo

    with outside.open("a", encoding="utf-8") as f:
        f.write("More payroll lines.\n")
    report = engine.refresh()  # the link's target changed: the file is looked at again, and named again
    skipped = dict(s.split(": ", 1) for s in report.skipped)
    assert skipped == {
        "big.txt": messages.SKIP_TOO_LARGE.format(size=3_000_000, limit=2_000_000),
        "late.txt": messages.SKIP_BINARY,
        "p.txt": messages.SKIP_OUTSIDE.format(target=outside.resolve()),
    }
    assert not any("payroll" in p.text.lower() for p in engine.data.passages)


@given(st.lists(st.sampled_from(["a", ".", "txt", "TXT", "md", "htm", "html", "x", "é", " "]), max_size=8).map("".join))
def test_an_article_name_is_what_splitext_says(name):
    assert is_article_name(name) == (os.path.splitext(name)[1].lower() in SUFFIXES)
