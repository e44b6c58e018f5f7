import itertools
from pathlib import Path

import pytest

from bot.core import messages
from bot.core.errors import SeedsError
from bot.retrieval.chunking import chunk, split_sentences
from bot.retrieval.loading import SeedFile, clean_lines, list_seed_files, parse_article

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def article(name: str):
    return parse_article(SeedFile(name, (SEEDS / name).read_bytes()))


def test_title_skips_navigation_words_before_the_headline():
    a = article("003_f25e02178ca9b32d.txt")
    assert a.title.startswith("Pertaruhan AI Meta Senilai $14,8 Miliar")
    assert not a.text.lower().startswith(("menu", "close"))


def test_repeated_headline_is_not_kept_twice():
    a = article("000_bed8d2b4576aa9ed.txt")
    assert a.title == "Anthropic Merekrut CTO Baru Menghadapi Persaingan OpenAI"
    assert a.title not in a.text


@pytest.mark.parametrize("name", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_page_leftovers_never_reach_the_text(name):
    text = article(name).text
    for leftover in (
        "Write A Comment",
        "Tinggalkan komentar",
        "Latest News",
        "Call to Action",
        "[1] ",
        "Sumber dan Referensi",
        "MEMBACA",
        "Source:",
    ):
        assert leftover not in text


def test_footer_rules_are_generic():
    raw = (
        "Nav\n\nA Headline About Something New\n\n"
        + "\n\n".join(f"Paragraph {i} says something long enough to be a sentence of the article." for i in range(6))
        + "\n\nShare this article\n\nSome promo words that go on for a while here.\n\nRelated\n"
    )
    title, lines = clean_lines(raw)
    assert title == "A Headline About Something New"
    assert lines[-1].startswith("Paragraph 5") and len(lines) == 6


def test_empty_binary_and_non_utf8_files_are_skipped_with_reasons():
    assert parse_article(SeedFile("e.txt", b" \n\n")) == messages.SKIP_EMPTY
    assert parse_article(SeedFile("b.txt", b"\x00\x01\x02binary")) == messages.SKIP_BINARY
    reason = parse_article(SeedFile("l.txt", "Caf\u00e9 au lait est bon.".encode("latin-1")))
    assert reason.startswith("the file is not UTF-8")


def test_missing_seeds_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SeedsError, match="does not exist"):
        list_seed_files(tmp_path / "nope")


def test_sentences_keep_initials_and_numbers_together():
    text = "Meta berencana $600 miliar untuk infrastruktur A.S. hingga 2028. Skala 1,3 juta GPU itu besar! Benar?"
    spans = [text[s.start : s.end] for s in split_sentences(text)]
    assert spans == [
        "Meta berencana $600 miliar untuk infrastruktur A.S. hingga 2028.",
        "Skala 1,3 juta GPU itu besar!",
        "Benar?",
    ]


@pytest.mark.parametrize("name", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_passages_are_short_whole_sentences_with_offsets(name):
    a = article(name)
    pieces = chunk(a, max_chars=500, overlap=1)
    assert len(pieces) > 3
    for passage, spans in pieces:
        assert passage.text == a.text[passage.start : passage.end]
        assert len(passage.text) < 1000
        assert passage.source == name and passage.title == a.title
        assert spans[0].start == passage.start and spans[-1].end == passage.end
    # consecutive windows overlap by one sentence, and no window is inside another
    for (p, _s), (q, _t) in itertools.pairwise(pieces):
        assert q.end > p.end


def test_a_fragment_joins_the_sentence_it_follows():
    a = article("002_6b93e47734c8dec5.txt")
    sentences = [a.text[s.start : s.end] for _, spans in chunk(a) for s in spans]
    assert any("17 Desember 2025" in s and "compute" in s.lower().replace("comute", "compute") for s in sentences)
