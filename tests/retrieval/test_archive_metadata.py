"""Articles carry their title, link, site and date into the index; a copy is indexed once; the newest first."""

import errno
import logging

import pytest

from bot.core.errors import IndexCorrupt
from bot.retrieval import languages
from bot.retrieval.archive import latest
from bot.retrieval.indexing import update_index
from bot.retrieval.store import load_index
from tests.retrieval.test_index import make_config, open_engine, write

EN_BODY = (
    "Volcano Robotics opened a research lab in Oslo with 40 engineers. "
    "The lab will build walking robots for warehouses, the company said on Monday."
)
ID_BODY = (
    "Startup Nusantara membeli perusahaan Kelinci Emas senilai Rp 5 triliun pada bulan Mei. "
    "Kesepakatan itu diumumkan di Jakarta oleh pendiri Budi Santoso."
)


def header(**meta) -> str:
    return "---\n" + "".join(f"{k}: {v}\n" for k, v in meta.items()) + "---\n"


def test_front_matter_reaches_the_index_and_plain_files_keep_working(corpus, embedder):
    write(
        corpus,
        "oslo.md",
        header(
            title="Volcano Robotics opens an Oslo lab",
            url="https://news.example.com/oslo-lab",
            site="news.example.com",
            published="2025-10-02",
            lang="en",
        )
        + EN_BODY,
    )
    write(corpus, "plain.txt", "Kelinci Emas Dibeli Startup Nusantara\n\n" + ID_BODY)
    engine = open_engine(corpus, embedder)
    oslo = engine.data.articles["oslo.md"].info
    assert (oslo.title, oslo.url, oslo.site, oslo.published, oslo.lang) == (
        "Volcano Robotics opens an Oslo lab",
        "https://news.example.com/oslo-lab",
        "news.example.com",
        "2025-10-02",
        "en",
    )
    plain = engine.data.articles["plain.txt"].info
    assert (plain.title, plain.url, plain.published) == ("Kelinci Emas Dibeli Startup Nusantara", None, None)
    # the header is not part of the text that is searched and quoted
    assert not any("url:" in p.text or "---" in p.text for p in engine.data.passages)


ID_BODY_2 = (
    "Koperasi nelayan di Tuban menerima dua belas kapal baru dari pemerintah provinsi pada bulan Maret. "
    "Ketua koperasi mengatakan kapal itu akan dipakai untuk menangkap ikan tongkol di Laut Jawa."
)
ID_BODY_3 = (
    "Pemerintah kota Bandung membuka perpustakaan baru di dekat alun-alun pada hari Sabtu. "
    "Perpustakaan itu meminjamkan buku dalam bahasa Indonesia, Sunda dan Inggris kepada warga."
)
ES_BODY = (
    "Volcano Robotics abrió un laboratorio en Oslo con 40 ingenieros. "
    "El laboratorio construirá robots para almacenes, según anunció la empresa el lunes."
)


def test_a_declared_language_is_taken_unless_the_text_reads_as_another_and_a_missing_one_detected(
    corpus, embedder, caplog
):
    write(corpus, "declared_en.md", header(title="Oslo lab", lang="en") + EN_BODY)
    write(corpus, "declared_ms.md", header(title="Tuban", lang="ms") + ID_BODY_2)  # a close language: taken
    write(corpus, "template_en.md", header(title="Bandung", lang="en") + ID_BODY_3)  # a template's "en"
    write(corpus, "template_en_es.md", header(title="Oslo", lang="en-US") + ES_BODY)
    write(corpus, "plain_id.txt", "Kelinci Emas Dibeli\n\n" + ID_BODY)
    write(
        corpus, "plain_en.txt", "Grab In Jakarta\n\nGrab moved its regional headquarters to Jakarta with 3,000 staff."
    )
    with caplog.at_level(logging.INFO):
        articles = open_engine(corpus, embedder).data.articles
    assert {name: a.info.lang for name, a in articles.items()} == {
        "declared_en.md": "en",
        "declared_ms.md": "ms",
        "template_en.md": "id",
        "template_en_es.md": "es",
        "plain_id.txt": "id",
        "plain_en.txt": "en",
    }
    assert "template_en.md declares its language as 'en' but reads as 'id'" in caplog.text
    assert "declared_ms.md declares" not in caplog.text


def test_an_article_whose_language_cannot_be_told_is_still_indexed(corpus, embedder, monkeypatch, caplog):
    def full_disk(_text):
        raise languages.Unavailable(str(OSError(errno.ENOSPC, "No space left on device")))

    monkeypatch.setattr(languages, "_scores", full_disk)
    write(corpus, "plain_id.txt", "Kelinci Emas Dibeli\n\n" + ID_BODY)
    write(corpus, "declared.md", header(title="Tuban", lang="id") + ID_BODY_2)
    with caplog.at_level(logging.WARNING):
        articles = open_engine(corpus, embedder).data.articles
    assert articles["plain_id.txt"].info.lang is None
    assert articles["declared.md"].info.lang == "id"  # as declared
    assert "Could not tell the language of plain_id.txt" in caplog.text and "No space left" in caplog.text


GRAB_BODY = "Grab moved its regional headquarters to Jakarta with 3,000 staff."


def languages_on_disk(corpus) -> dict[str, str]:
    articles = load_index(corpus / "index").articles
    return {name: articles.lang_of(name) for name in articles}


def test_languages_are_kept_by_updates_that_add_and_that_remove(corpus, embedder):
    write(corpus, "id.txt", "Kelinci Emas Dibeli\n\n" + ID_BODY)
    write(corpus, "en.txt", "Grab In Jakarta\n\n" + GRAB_BODY)
    update_index(make_config(corpus), embedder)
    write(corpus, "oslo.txt", "Oslo Lab\n\n" + EN_BODY)  # an addition: the articles file is shared
    update_index(make_config(corpus), embedder)
    assert languages_on_disk(corpus) == {"id.txt": "id", "en.txt": "en", "oslo.txt": "en"}
    (corpus / "seeds" / "en.txt").unlink()  # a removal: the kept lines are copied
    update_index(make_config(corpus), embedder)
    assert languages_on_disk(corpus) == {"id.txt": "id", "oslo.txt": "en"}


def test_an_index_written_before_languages_were_recorded_knows_none(corpus, embedder):
    write(corpus, "id.txt", "Kelinci Emas Dibeli\n\n" + ID_BODY)
    write(corpus, "en.txt", "Grab In Jakarta\n\n" + GRAB_BODY)
    data, _ = update_index(make_config(corpus), embedder)
    (data.folder / "articles.langs.json").unlink()
    assert languages_on_disk(corpus) == {"id.txt": "", "en.txt": ""}
    write(corpus, "oslo.txt", "Oslo Lab\n\n" + EN_BODY)  # added to it: the new article's is recorded
    _, report = update_index(make_config(corpus), embedder)
    assert languages_on_disk(corpus) == {"id.txt": "", "en.txt": "", "oslo.txt": "en"}
    assert "en 1, 2 of unknown language" in report.languages
    (load_index(corpus / "index").folder / "articles.langs.json").write_text('["en"]')
    with pytest.raises(IndexCorrupt, match=r"articles\.langs\.json"):
        load_index(corpus / "index")


def test_the_same_article_under_two_names_is_indexed_once_and_named(corpus, embedder):
    write(corpus, "a.md", header(title="Oslo lab", url="https://news.example.com/oslo-lab?utm_source=x") + EN_BODY)
    write(
        corpus,
        "b.md",
        header(title="Oslo lab, again", url="http://www.news.example.com/oslo-lab/")
        + "Other words entirely, about a lab in Oslo that opened.",
    )
    write(corpus, "c.txt", "Kelinci Emas\n\n" + ID_BODY)
    # the same text, wrapped differently, under another name
    write(corpus, "d.txt", "Kelinci Emas\n\n" + ID_BODY.replace(". ", ".\n"))
    engine = open_engine(corpus, embedder)
    assert {p.source for p in engine.data.passages} == {"a.md", "c.txt"}
    engine_report = engine.refresh(force=True)
    assert [d.split(":")[0] for d in engine_report.duplicates] == ["b.md", "d.txt"]
    assert "a.md" in engine_report.duplicates[0] and "c.txt" in engine_report.duplicates[1]
    assert not any(s.startswith(("b.md", "d.txt")) for s in engine_report.skipped)

    # the original goes: the copy takes its place
    (corpus / "seeds" / "c.txt").unlink()
    engine.refresh()
    assert {p.source for p in engine.data.passages} == {"a.md", "d.txt"}
    # an unchanged index stays fresh with a duplicate in the folder
    assert engine.refresh() is None


def test_latest_lists_dated_articles_newest_first_then_undated(corpus, embedder):
    write(corpus, "old.md", header(title="Old", published="2024-01-05") + EN_BODY)
    write(corpus, "new.md", header(title="New", published="2025-11-20T09:30:00+00:00") + ID_BODY)
    write(
        corpus,
        "undated.txt",
        "Kopi Luwak\n\nEkspor kopi luwak naik tiga kali lipat tahun ini menurut kementerian perdagangan.",
    )
    engine = open_engine(corpus, embedder)
    assert [i.source for i in latest(engine.data, 10)] == ["new.md", "old.md", "undated.txt"]
    assert [i.source for i in latest(engine.data, 1)] == ["new.md"]
    assert latest(None) == []
