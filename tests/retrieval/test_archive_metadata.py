"""Articles carry their title, link, site and date into the index; a copy is indexed once; the newest first."""

from bot.retrieval.archive import latest
from tests.retrieval.test_index import open_engine, write

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
