"""An update costs what changed: unchanged files are not read, nothing just written is loaded again,
BM25 tokenizes only new passages, and the decline calibration is kept while few passages changed."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from bot.core import messages
from bot.core.errors import IndexCorrupt
from bot.retrieval import calibration, indexing, lexical, loading, search, store, trust
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.engine import Engine
from bot.retrieval.indexing import embed_text, lexicon_of, update_index
from bot.retrieval.lexical import Lexicon
from bot.retrieval.loading import list_seed_files
from bot.retrieval.store import load_index
from tests.conftest import make_settings

# Articles written for these tests, in English and Indonesian (not the seeds).
FERRY = (
    "Harbour Ferry Adds A Night Crossing\n\n"
    "The harbour ferry company added a night crossing between Tallinn and Helsinki this spring. "
    "Tickets for the late boat cost twelve euros and sell out on Fridays.\n"
)
KOPI = (
    "Koperasi Kopi Gayo Membuka Gudang Baru\n\n"
    "Koperasi petani kopi Gayo membuka gudang baru di Takengon untuk menyimpan tiga ratus ton biji kopi. "
    "Gudang itu dibangun dengan pinjaman bank daerah.\n"
)
LIBRARY = (
    "Perpustakaan Kota Buka Sampai Tengah Malam\n\n"
    "Perpustakaan kota Bandung kini buka sampai tengah malam selama musim ujian. "
    "Mahasiswa boleh meminjam laptop di meja depan dengan kartu anggota.\n"
)
_DAYS = ["On Monday", "On Saturday"]
_DID = ["the choir rehearsed a new hymn", "the rowing team trained on the lake", "the bakers sold rye loaves"]
_WHERE = ["near the old mill", "behind the station"]
MANY = "Town Diary For The Season\n\n" + " ".join(f"{d} {w} {p}." for d in _DAYS for w in _DID for p in _WHERE)


def config(root, **overrides) -> RetrievalConfig:
    return RetrievalConfig.from_settings(make_settings(root, **overrides))


def write(root, name: str, text: str) -> None:
    (root / "seeds" / name).write_text(text, encoding="utf-8")


@pytest.fixture
def settle_now(monkeypatch):
    """Files written a moment ago count as settled (the default waits STAT_SETTLE_NS after a write)."""
    monkeypatch.setattr(loading, "STAT_SETTLE_NS", 0)


def counting(monkeypatch, module, name) -> list:
    calls = []
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


# ---------------------------------------------------------------- stat before hashing


def test_a_file_whose_stat_is_unchanged_is_not_read(corpus, settle_now):
    write(corpus, "ferry.txt", FERRY)
    write(corpus, "kopi.txt", KOPI)
    first = {s.source: s for s in list_seed_files(corpus / "seeds")}
    assert all(s.stat and s.data for s in first.values())
    known = {src: (s.stat, s.digest) for src, s in first.items()}
    again = {s.source: s for s in list_seed_files(corpus / "seeds", known=known)}
    assert again["ferry.txt"].data == b"" and again["ferry.txt"].digest == first["ferry.txt"].digest
    # the same bytes written again: a new stat, so read and hashed; the digest says it is unchanged
    write(corpus, "kopi.txt", KOPI)
    rewritten = {s.source: s for s in list_seed_files(corpus / "seeds", known=known)}["kopi.txt"]
    assert rewritten.data and rewritten.stat != first["kopi.txt"].stat
    assert rewritten.digest == first["kopi.txt"].digest
    # a change of the same size is still seen: the stat moves with any write
    write(corpus, "kopi.txt", KOPI.replace("tiga", "lima"))
    changed = {s.source: s for s in list_seed_files(corpus / "seeds", known=known)}["kopi.txt"]
    assert changed.data and changed.digest != first["kopi.txt"].digest


def test_a_recorded_stat_never_bypasses_the_size_limit_or_the_link_rules(corpus, settle_now, tmp_path_factory):
    write(corpus, "ferry.txt", FERRY)
    seed = list_seed_files(corpus / "seeds")[0]
    known = {"ferry.txt": (seed.stat, seed.digest)}
    small = list_seed_files(corpus / "seeds", max_bytes=50, known=known)[0]
    assert small.skipped == messages.SKIP_TOO_LARGE.format(size=len(FERRY.encode()), limit=50)
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text(FERRY, encoding="utf-8")
    (corpus / "seeds" / "ferry.txt").unlink()
    os.symlink(outside, corpus / "seeds" / "ferry.txt")
    linked = list_seed_files(corpus / "seeds", known=known)[0]
    assert linked.skipped.startswith(messages.SKIP_OUTSIDE.split("{")[0]) and not linked.known


def test_the_files_check_sees_what_listing_every_file_sees(corpus, settle_now, tmp_path_factory, monkeypatch):
    """seeds_match is comparing list_seed_files(known=...) with the index, without a SeedFile a file."""
    seeds = corpus / "seeds"
    write(corpus, "ferry.txt", FERRY)
    (seeds / "id").mkdir()
    write(corpus, "id/kopi.txt", KOPI)
    listed = list_seed_files(seeds)
    digests, stats = {s.source: s.digest for s in listed}, {s.source: list(s.stat) for s in listed}

    def match(digests=digests, stats=stats, **kwargs) -> bool:
        agrees = {s.source: s.digest for s in list_seed_files(seeds, known=known(stats, digests), **kwargs)} == digests
        read.clear()  # from here, the files seeds_match reads
        assert loading.seeds_match(seeds, digests, stats, **kwargs) == agrees
        return agrees

    def known(stats, digests):
        return {source: (stat, digests[source]) for source, stat in stats.items() if source in digests}

    read: list = []
    monkeypatch.setattr(loading, "_read_seed", lambda *a, real=loading._read_seed: read.append(a[1]) or real(*a))
    assert match() and read == []  # every stat recorded: nothing read
    assert match(stats={"ferry.txt": stats["ferry.txt"]}) and read == ["id/kopi.txt"]  # no stat: read, same digest
    assert not match(digests={})
    assert not match(max_bytes=50)  # now over the size limit: skipped
    assert not match(digests={"ferry.txt": digests["ferry.txt"]})  # a file the index does not have
    assert not match(digests={**digests, "gone.txt": digests["ferry.txt"]})
    write(corpus, "id/kopi.txt", KOPI.replace("tiga", "lima"))  # same size, same inode, rewritten
    assert not match()
    write(corpus, "id/kopi.txt", KOPI)  # the same bytes again: a new stat, read, the same digest
    assert match()
    outside = tmp_path_factory.mktemp("outside") / "ferry.txt"
    outside.write_text(FERRY, encoding="utf-8")
    (seeds / "ferry.txt").unlink()
    os.symlink(outside, seeds / "ferry.txt")  # a link out of the folder: skipped by the listing's rules
    assert not match()
    skipped = {s.source: s.digest for s in list_seed_files(seeds)}
    assert match(digests=skipped)  # and unchanged once the index has it skipped


def test_a_cold_start_on_unchanged_seeds_reads_the_manifest_once_and_no_file(corpus, embedder, settle_now, monkeypatch):
    write(corpus, "ferry.txt", FERRY)
    write(corpus, "kopi.txt", KOPI)
    settings = make_settings(corpus, seeds_check="files")
    Engine.open(settings, embedder=embedder)
    parsed = counting(monkeypatch, store, "_read_manifest_at")
    listed = counting(monkeypatch, indexing, "list_seed_files")
    read = counting(monkeypatch, loading, "_read_seed")
    engine = Engine.open(settings, embedder=embedder)
    assert "Takengon" in engine.ask("Where is the Gayo coffee warehouse?").passages[0].text
    assert (len(parsed), listed, read) == (1, [], [])
    write(corpus, "kopi.txt", KOPI.replace("tiga", "lima"))  # then a change is still seen
    assert (
        "lima" in Engine.open(settings, embedder=embedder).ask("Where is the Gayo coffee warehouse?").passages[0].text
    )


def test_a_file_written_just_now_gets_no_stat(corpus):
    """Two writes in one clock tick leave the same stat: such a file is hashed again next time."""
    write(corpus, "ferry.txt", FERRY)
    assert list_seed_files(corpus / "seeds")[0].stat == ()
    past = time.time_ns() - 2 * loading.STAT_SETTLE_NS
    path = corpus / "seeds" / "ferry.txt"
    assert os.stat(path).st_ctime_ns > past  # utime cannot move ctime back: still "just written"
    os.utime(path, ns=(past, past))
    assert list_seed_files(corpus / "seeds")[0].stat == ()


def test_an_update_reads_only_new_files_and_hashes_each_once(corpus, embedder, settle_now, monkeypatch):
    write(corpus, "ferry.txt", FERRY)
    write(corpus, "kopi.txt", KOPI)
    data, _ = update_index(config(corpus), embedder)
    assert set(data.manifest["stats"]) == {"ferry.txt", "kopi.txt"}
    write(corpus, "library.txt", LIBRARY)
    reads = counting(monkeypatch, loading, "_read_seed")
    hashes = counting(monkeypatch, loading, "file_hash")
    data, report = update_index(config(corpus), embedder, data)
    assert report.added == ("library.txt",) and report.unchanged == 2
    assert [args[1] for args in reads] == ["library.txt"]
    assert len(hashes) == 1
    assert {p.source for p in data.passages} == {"ferry.txt", "kopi.txt", "library.txt"}


# ---------------------------------------------------------------- no second load


def test_an_update_returns_what_it_built_without_loading_it(corpus, embedder, monkeypatch):
    write(corpus, "ferry.txt", FERRY)
    data, _ = update_index(config(corpus), embedder)
    write(corpus, "kopi.txt", KOPI)

    def no_load(*_):
        raise AssertionError("the update loaded an index")

    monkeypatch.setattr(store, "load_index", no_load)
    parsed = counting(monkeypatch, store, "_read_manifest_at")
    data, report = update_index(config(corpus), embedder, data)
    assert report.added == ("kopi.txt",)
    assert {p.source for p in data.passages} == {"ferry.txt", "kopi.txt"}
    assert parsed == []  # the generation in memory is the current one: one readlink says so


def test_what_an_update_returns_is_what_a_load_reads(corpus, embedder):
    write(corpus, "ferry.txt", FERRY)
    data, _ = update_index(config(corpus), embedder)
    write(corpus, "kopi.txt", KOPI)
    write(corpus, "library.txt", LIBRARY)
    data, _ = update_index(config(corpus), embedder, data)
    loaded = load_index(corpus / "index")
    assert loaded.manifest == json.loads(json.dumps(data.manifest))
    assert tuple(loaded.passages) == tuple(data.passages) and tuple(loaded.sentences) == tuple(data.sentences)
    assert loaded.articles == data.articles
    assert np.array_equal(loaded.passage_vectors, data.passage_vectors)
    assert np.array_equal(loaded.sentence_vectors, data.sentence_vectors)
    for question in ("night ferry tickets Helsinki", "gudang kopi Takengon", "perpustakaan buka tengah malam"):
        assert np.array_equal(all_scores(loaded.lexicon, question), all_scores(data.lexicon, question))
    q = embedder.query("When does the library close?").reshape(1, -1)
    assert np.array_equal(loaded.dense.search(q, 3)[1], data.dense.search(q, 3)[1])
    assert getattr(data, "folder", None) == getattr(loaded, "folder", None)


# ---------------------------------------------------------------- BM25 from kept term counts


def all_scores(lexicon: Lexicon, question: str) -> np.ndarray:
    return lexicon.scores(question, np.arange(len(lexicon.lengths)))


def test_bm25_from_kept_counts_scores_as_a_fresh_build(corpus, embedder, monkeypatch):
    write(corpus, "ferry.txt", FERRY)
    write(corpus, "kopi.txt", KOPI)
    data, _ = update_index(config(corpus), embedder)
    old_texts = {embed_text(p) for p in data.passages}
    (corpus / "seeds" / "ferry.txt").unlink()  # its words leave the vocabulary
    write(corpus, "library.txt", LIBRARY)
    tokenized = counting(monkeypatch, lexical, "tokens")
    data, _ = update_index(config(corpus), embedder, data)
    new_texts = {embed_text(p) for p in data.passages if p.source == "library.txt"}
    passage_texts = old_texts | {embed_text(p) for p in data.passages}  # (questions are tokenized too)
    assert {args[0] for args in tokenized} & passage_texts == new_texts
    fresh = Lexicon.of_texts([embed_text(p) for p in data.passages])
    assert data.lexicon.words == fresh.words and "helsinki" not in data.lexicon.words
    for question in ("Perpustakaan buka sampai tengah malam?", "Koperasi kopi Gayo gudang", "laptop kartu anggota"):
        assert np.array_equal(all_scores(data.lexicon, question), all_scores(fresh, question))


def test_counts_from_another_tokenizer_fall_back_to_tokenizing(corpus, embedder, monkeypatch):
    write(corpus, "ferry.txt", FERRY)
    write(corpus, "kopi.txt", KOPI)
    update_index(config(corpus), embedder)
    monkeypatch.setattr(indexing, "tokenizer_fingerprint", lambda: "another tokenizer")
    tokenized = counting(monkeypatch, lexical, "tokens")
    write(corpus, "library.txt", LIBRARY)
    data, _ = update_index(config(corpus), embedder)  # a new process: loads the index from disk
    kept = {embed_text(p) for p in data.passages if p.source != "library.txt"}
    assert kept <= {args[0] for args in tokenized}  # the kept passages were tokenized again
    fresh = Lexicon.of_texts([embed_text(p) for p in data.passages])
    assert np.array_equal(all_scores(data.lexicon, "kopi Gayo"), all_scores(fresh, "kopi Gayo"))
    assert data.manifest["lexicon"]["tokenizer"] == "another tokenizer"
    assert data.manifest["lexicon"]["tokens"] == fresh.size


def test_the_lexicon_without_a_base_tokenizes_everything(corpus):
    from bot.core.models import Passage

    passages = [Passage("a.txt", "Ferry", FERRY, 0, len(FERRY)), Passage("b.txt", "Kopi", KOPI, 0, len(KOPI))]
    ours = lexicon_of(None, [], passages)
    assert ours.size == sum(len(lexical.tokens(embed_text(p))) for p in passages)
    assert ours.words == sorted({t for p in passages for t in lexical.tokens(embed_text(p))})


# ---------------------------------------------------------------- calibration kept or measured again


def test_the_recalibration_rule():
    cal = {"method": calibration.METHOD, "bank": calibration.bank_digest(), "k": 3, "passages": 1000, "changed": 0}
    limit = int(calibration.RECALIBRATE_FRACTION * 1000)  # 50 passages
    assert calibration.carried(cal, 1000 + limit, limit, 3)["changed"] == limit
    assert calibration.carried(cal, 1000 + limit + 1, limit + 1, 3) is None
    # small updates add up: the sum since the last measurement counts
    step = calibration.carried(cal, 1000 + limit - 10, limit - 10, 3)
    assert step["changed"] == limit - 10 and step["passages"] == 1000
    assert calibration.carried(step, 1000 + limit + 10, 20, 3) is None
    assert calibration.carried(cal, 1001, 1, 5) is None  # another k
    assert calibration.carried({**cal, "bank": "other"}, 1001, 1, 3) is None
    assert calibration.carried(None, 1001, 1, 3) is None


def test_a_small_addition_keeps_the_calibration_and_a_large_one_measures_again(corpus, embedder, monkeypatch):
    """The archive here is tiny, so the fraction is raised to make "small" mean one short article."""
    monkeypatch.setattr(calibration, "RECALIBRATE_FRACTION", 0.5)
    write(corpus, "ferry.txt", FERRY)
    write(corpus, "kopi.txt", KOPI)
    data, report = update_index(config(corpus, chunk_max_chars=120), embedder)
    first = data.manifest["calibration"]
    assert first["passages"] == len(data.passages) >= 4 and first["changed"] == 0
    write(corpus, "library.txt", LIBRARY)
    data, report = update_index(config(corpus, chunk_max_chars=120), embedder, data)
    added = sum(p.source == "library.txt" for p in data.passages)
    kept = data.manifest["calibration"]
    assert 0 < added <= 0.5 * first["passages"]
    assert kept == {**first, "changed": added}
    assert report.calibration == calibration.describe(data.manifest)
    assert f"{added} passages added or removed since" in report.calibration
    # a large addition: measured again, on this index, with the probe vectors kept in the generation
    monkeypatch.setattr(calibration, "_vectors", {})
    queries = counting(monkeypatch, embedder, "query")
    write(corpus, "diary.txt", MANY)
    data, report = update_index(config(corpus, chunk_max_chars=120), embedder, data)
    assert not queries  # no probe question embedded again
    again = data.manifest["calibration"]
    assert sum(p.source == "diary.txt" for p in data.passages) > 0.5 * kept["passages"]
    assert again["passages"] == len(data.passages) and again["changed"] == 0
    top_k = config(corpus).top_k
    assert again["offtopic_median"] == calibration.calibrate(data, embedder, top_k)["offtopic_median"]
    assert "added or removed since" not in report.calibration


# ---------------------------------------------------------------- the dense index choice in the report


def test_the_report_names_the_dense_index_choice(corpus, embedder):
    write(corpus, "ferry.txt", FERRY)
    data, report = update_index(config(corpus), embedder)
    reason = (data.manifest.get("dense") or {}).get("reason", "")
    assert report.dense == reason
    if hasattr(store, "choose_dense"):
        assert "exact" in report.dense


# ---------------------------------------------------------------- what is kept is shared or copied, never rebuilt


def test_an_addition_appends_to_the_shared_vector_files_and_the_old_generation_keeps_its_rows(corpus, embedder):
    write(corpus, "ferry.txt", FERRY)
    write(corpus, "kopi.txt", KOPI)
    old, _ = update_index(config(corpus), embedder)
    before = np.array(old.passage_vectors), np.array(old.sentence_vectors)
    write(corpus, "library.txt", LIBRARY)
    new, _ = update_index(config(corpus), embedder)  # a new process: reads the index on disk
    for name in ("passages.npy", "sentences.npy", "passages.jsonl", "articles.jsonl"):
        assert os.stat(new.folder / name).st_ino == os.stat(old.folder / name).st_ino, name  # one file, appended
    assert tuple(store.open_written(old.folder, old.manifest).passages) == tuple(old.passages)
    assert set(load_index(corpus / "index").articles) == {"ferry.txt", "kopi.txt", "library.txt"}
    assert dict(store.open_written(old.folder, old.manifest).articles) == dict(old.articles)  # its own lines only
    assert tuple(new.passages[: len(old.passages)]) == tuple(old.passages)
    assert {p.source for p in new.passages[len(old.passages) :]} == {"library.txt"}
    assert np.load(new.folder / "passages.npy").shape == (len(new.passages), embedder.dim)  # its header counts all
    # a reader of the old generation, loaded before or after the append, sees its own rows only
    assert np.array_equal(old.passage_vectors, before[0]) and np.array_equal(old.sentence_vectors, before[1])
    again = store.open_written(old.folder, old.manifest)
    assert again.passage_vectors.shape == before[0].shape and np.array_equal(again.sentence_vectors, before[1])
    assert np.array_equal(new.passage_vectors[: len(before[0])], before[0])
    # a removal rewrites the files: the generation still current for others is never changed
    (corpus / "seeds" / "ferry.txt").unlink()
    newer, _ = update_index(config(corpus), embedder, new)
    for name in ("passages.npy", "passages.jsonl", "articles.jsonl"):
        assert os.stat(newer.folder / name).st_ino != os.stat(new.folder / name).st_ino, name
    assert set(newer.articles) == {"kopi.txt", "library.txt"}
    assert dict(store.open_written(new.folder, new.manifest).articles) == dict(new.articles)
    assert tuple(store.open_written(new.folder, new.manifest).passages) == tuple(new.passages)
    assert np.array_equal(store.open_written(new.folder, new.manifest).passage_vectors, new.passage_vectors)
    kept = [i for i, p in enumerate(new.passages) if p.source != "ferry.txt"]
    assert np.array_equal(newer.passage_vectors, np.asarray(new.passage_vectors)[kept])


def test_a_file_a_dead_writer_appended_to_is_copied_not_shared(corpus, embedder):
    write(corpus, "ferry.txt", FERRY)
    old, _ = update_index(config(corpus), embedder)
    with open(old.folder / "passages.npy", "ab") as f:  # rows a killed update appended, never published
        f.write(np.ones((2, embedder.dim), np.float32).tobytes())
    for name in ("passages.jsonl", "articles.jsonl"):
        with open(old.folder / name, "ab") as f:
            f.write(b'{"half a line": \n')
    assert np.array_equal(load_index(corpus / "index").passage_vectors, old.passage_vectors)
    write(corpus, "kopi.txt", KOPI)
    new, _ = update_index(config(corpus), embedder)
    for name in ("passages.npy", "passages.jsonl", "articles.jsonl"):
        assert os.stat(new.folder / name).st_ino != os.stat(old.folder / name).st_ino, name
    assert b"half a line" not in (new.folder / "articles.jsonl").read_bytes()
    assert dict(new.articles) == {**dict(old.articles), "kopi.txt": load_index(corpus / "index").articles["kopi.txt"]}
    assert np.array_equal(new.passage_vectors[: len(old.passages)], old.passage_vectors)
    assert b"half a line" not in (new.folder / "passages.jsonl").read_bytes()
    assert tuple(new.passages[: len(old.passages)]) == tuple(old.passages)
    assert not np.any(np.all(np.asarray(new.passage_vectors) == 1, axis=1))


def test_a_copy_of_a_kept_article_is_found_without_reading_the_kept_articles(corpus, embedder, monkeypatch):
    write(corpus, "ferry.txt", FERRY)
    write(corpus, "kopi.txt", KOPI)
    update_index(config(corpus), embedder)
    write(corpus, "ferry-again.txt", FERRY.replace("\n\n", "\n\n\n"))  # the same words, wrapped differently
    write(corpus, "library.txt", LIBRARY)
    parsed = counting(monkeypatch, store.Archived, "from_row")
    data, report = update_index(config(corpus), embedder)
    assert not parsed  # the kept articles' keys come from the generation, their lines are copied
    assert [d.split(":")[0] for d in report.duplicates] == ["ferry-again.txt"] and "ferry.txt" in report.duplicates[0]
    assert set(data.articles) == {"ferry.txt", "kopi.txt", "library.txt"}
    assert data.articles["kopi.txt"].info.title == "Koperasi Kopi Gayo Membuka Gudang Baru"


def test_a_build_written_out_in_groups_embeds_each_distinct_sentence_once(corpus, embedder, monkeypatch):
    """New vectors go to files a group of passages at a time; a sentence repeated in a later group is read back."""
    monkeypatch.setattr(indexing, "GROUP_PASSAGES", 2)
    write(corpus, "ferry.txt", FERRY)
    write(corpus, "ferry-diary.txt", MANY + "\n\n" + FERRY.split("\n\n", 1)[1])  # repeats ferry's sentences
    texts = []
    real = embedder.passages
    monkeypatch.setattr(embedder, "passages", lambda batch: texts.extend(batch) or real(batch))
    data, _ = update_index(config(corpus, chunk_max_chars=120), embedder)
    sentences = [p.text[a:b] for p, spans in zip(data.passages, data.sentences, strict=True) for a, b in spans]
    assert len(data.passages) > 2 * indexing.GROUP_PASSAGES  # several groups
    assert sorted(t for t in texts if t in set(sentences)) == sorted(set(sentences))  # each once
    assert np.allclose(data.sentence_vectors, real(sentences), atol=1e-6)
    assert not any((data.folder / name).exists() for name in indexing.NEW_FILES)


def test_an_index_of_the_previous_format_is_upgraded_without_embedding_again(corpus, embedder, monkeypatch):
    """A format-5 index kept bm25s's score matrix, not the counts: its passages are tokenized, not embedded."""
    write(corpus, "ferry.txt", FERRY)
    write(corpus, "kopi.txt", KOPI)
    built, _ = update_index(config(corpus), embedder)
    gen = built.folder
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    manifest["format_version"] = 5
    del manifest["lexicon"]
    (gen / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    for part in (gen / lexical.FOLDER).iterdir():
        part.unlink()
    (gen / lexical.FOLDER).rmdir()
    old = load_index(corpus / "index")
    seeds = indexing.list_seeds(config(corpus))
    assert old.lexicon is None and not indexing.is_fresh(old.manifest, config(corpus), embedder.name, seeds)
    embedded = counting(monkeypatch, embedder, "passages")
    data, report = update_index(config(corpus), embedder)
    assert not embedded and not report.rebuilt_because
    assert data.manifest["format_version"] == store.FORMAT_VERSION
    assert np.array_equal(data.passage_vectors, built.passage_vectors)
    fresh = Lexicon.of_texts([embed_text(p) for p in data.passages])
    assert data.lexicon.words == fresh.words
    assert np.array_equal(all_scores(data.lexicon, "kopi Gayo ferry"), all_scores(fresh, "kopi Gayo ferry"))


def test_the_baseline_sample_is_written_with_the_generation_and_moves_with_the_calibration(
    corpus, embedder, monkeypatch
):
    """A cold start gathered 4,096 random rows of the mapped sentence vectors (0.5 s at 100k passages)."""
    monkeypatch.setattr(search, "BASELINE_SAMPLE", 2)  # fewer than the sentences: a sample is drawn
    write(corpus, "ferry.txt", FERRY)
    write(corpus, "kopi.txt", KOPI)
    data, _ = update_index(config(corpus), embedder)
    drawn = search.draw_baseline(np.asarray(data.sentence_vectors))
    assert len(drawn) == 2 < len(data.sentence_vectors)
    assert np.array_equal(np.load(data.folder / store.BASELINE_FILE), drawn)
    loaded = load_index(corpus / "index")
    assert search.baseline_sample(loaded) is loaded.baseline and np.array_equal(loaded.baseline, drawn)
    # few passages changed: the calibration is kept, and so is the sample
    monkeypatch.setattr(calibration, "RECALIBRATE_FRACTION", 10.0)
    write(corpus, "library.txt", LIBRARY)
    kept, _ = update_index(config(corpus), embedder, loaded)
    assert np.array_equal(kept.baseline, drawn)
    # a recalibration draws it again, from every sentence of the new generation
    monkeypatch.setattr(calibration, "RECALIBRATE_FRACTION", 0.0)
    write(corpus, "many.txt", MANY)
    redrawn, _ = update_index(config(corpus), embedder, kept)
    assert np.array_equal(redrawn.baseline, search.draw_baseline(np.asarray(redrawn.sentence_vectors)))
    assert not np.array_equal(redrawn.baseline, drawn)


def test_a_baseline_sample_of_another_dimension_is_damage(corpus, embedder):
    write(corpus, "ferry.txt", FERRY)
    data, _ = update_index(config(corpus), embedder)
    np.save(data.folder / store.BASELINE_FILE, np.zeros((4, embedder.dim + 1), np.float32))
    with pytest.raises(IndexCorrupt, match=r"baseline\.npy"):
        load_index(corpus / "index")


def test_an_addition_shares_the_main_counts_and_merges_them_once_the_recent_ones_are_too_many(
    corpus, embedder, monkeypatch
):
    write(corpus, "ferry.txt", FERRY)
    write(corpus, "kopi.txt", KOPI)
    first, _ = update_index(config(corpus), embedder)
    monkeypatch.setattr(lexical, "RECENT_MAX", 10_000)
    main = first.folder / lexical.FOLDER / "docs.npy"
    write(corpus, "library.txt", LIBRARY)
    added, _ = update_index(config(corpus), embedder)
    recent = len(added.passages) - len(first.passages)
    assert isinstance(added.lexicon, lexical.Segments) and added.manifest["lexicon"]["recent"] == recent
    assert os.stat(added.folder / lexical.FOLDER / "docs.npy").st_ino == os.stat(main).st_ino  # shared, not written
    fresh = Lexicon.of_texts([embed_text(p) for p in added.passages])
    for question in ("Perpustakaan buka sampai tengah malam?", "kopi Gayo ferry", "laptop kartu anggota"):
        assert np.array_equal(all_scores(added.lexicon, question), all_scores(fresh, question))
    assert trust.knows(added.word_lists, "perpustakaan") and trust.knows(added.word_lists, "ferry")
    # past RECENT_MAX: one lexicon again, every passage's counts in it
    monkeypatch.setattr(lexical, "RECENT_MAX", recent)
    write(corpus, "many.txt", MANY)
    merged, _ = update_index(config(corpus), embedder)
    assert isinstance(merged.lexicon, Lexicon) and "recent" not in merged.manifest["lexicon"]
    assert not (merged.folder / lexical.RECENT_FOLDER).exists()
    fresh = Lexicon.of_texts([embed_text(p) for p in merged.passages])
    assert merged.lexicon.words == fresh.words
    for name in lexical.ARRAYS:
        assert np.array_equal(getattr(merged.lexicon, name), getattr(fresh, name)), name
    # a removal while counts are in two segments: merged into one, the removed passages' counts gone
    monkeypatch.setattr(lexical, "RECENT_MAX", 10_000)
    (corpus / "seeds" / "other.txt").write_text(FERRY.replace("Helsinki", "Stockholm"), encoding="utf-8")
    two, _ = update_index(config(corpus), embedder)
    assert isinstance(two.lexicon, lexical.Segments)
    (corpus / "seeds" / "ferry.txt").unlink()
    removed, _ = update_index(config(corpus), embedder)
    fresh = Lexicon.of_texts([embed_text(p) for p in removed.passages])
    assert isinstance(removed.lexicon, Lexicon) and removed.lexicon.words == fresh.words
    assert "helsinki" not in removed.lexicon.words and "stockholm" in removed.lexicon.words
    for name in lexical.ARRAYS:
        assert np.array_equal(getattr(removed.lexicon, name), getattr(fresh, name)), name
