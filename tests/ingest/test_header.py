"""Front matter on .txt/.md articles: read, written back, and files without one untouched."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from bot.ingest import header

ID_BODY = "Startup Kasirku meraih pendanaan Seri A.\nDana itu dipakai untuk memperluas layanan ke Sumatra."


def test_a_header_gives_the_known_keys_and_the_body():
    text = (
        "---\ntitle: Kasirku Raih Pendanaan Seri A\nurl: https://startupindo.example/pendanaan/kasirku\n"
        "site: StartupIndo\npublished: 2025-05-08\nlang: id\nauthor: ignored\n---\n" + ID_BODY + "\n"
    )
    meta, body = header.read(text)
    assert meta == {
        "title": "Kasirku Raih Pendanaan Seri A",
        "url": "https://startupindo.example/pendanaan/kasirku",
        "site": "StartupIndo",
        "published": "2025-05-08",
        "lang": "id",
    }
    assert body == ID_BODY


def test_a_file_without_a_header_is_returned_unchanged():
    for text in (
        ID_BODY,
        "menu\nclose\nLumen Labs names a new CTO\nThe company said on Thursday.",
        "---\nA text that opens with a rule line\n---\nand goes on.",  # dashes, but no header of ours
        "--- not a header\nstill text",
        "",
    ):
        assert header.read(text) == ({}, text)


def test_bad_values_are_dropped_with_a_reason_and_the_rest_kept():
    text = (
        "---\ntitle: Une étude sur l'IA\nurl: javascript:alert(1)\npublished: last Tuesday\nlang: French!\n---\nCorps."
    )
    meta, body, problems = header.read_with_problems(text)
    assert meta == {"title": "Une étude sur l'IA"} and body == "Corps."
    assert len(problems) == 3 and any("url" in p and "http(s)" in p for p in problems)


def test_dates_and_times_are_iso_and_an_unquoted_colon_in_a_title_still_reads():
    meta, _ = header.read("---\ntitle: Lumen Labs: a new CTO\npublished: 2025-10-02 14:30\n---\nBody")
    assert meta == {"title": "Lumen Labs: a new CTO", "published": "2025-10-02T14:30:00"}
    meta, _ = header.read("---\npublished: 2025-10-02T14:30:00+07:00\nlang: en-GB\n---\nBody")
    assert meta == {"published": "2025-10-02T14:30:00+07:00", "lang": "en"}


def test_write_then_read_gives_the_same_article():
    meta = {"title": "Pemerintah: aturan AI segera terbit", "url": "https://x.example/a?b=1", "published": "2025-09-01"}
    text = header.write({**meta, "site": None}, ID_BODY)
    assert text.startswith("---\n") and text.endswith("\n")
    assert header.read(text) == (meta, ID_BODY)
    assert header.write({}, ID_BODY) == ID_BODY + "\n"  # nothing known: no header at all


@given(
    title=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80).filter(str.strip),
    body=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200).filter(str.strip),
)
@example(title="0", body="0\r\n0")  # Windows line ends come back as \n (python-frontmatter reads them so)
def test_any_title_and_body_survive_a_round_trip(title, body):
    meta, read_body = header.read(header.write({"title": title}, body))
    assert meta == {"title": " ".join(title.split())}
    assert read_body == body.strip().replace("\r\n", "\n")
