"""Answers from the real engine over the seed articles."""

from bot.retrieval.config import RetrievalConfig
from bot.retrieval.engine import Engine
from tests.conftest import make_settings


def test_an_english_question_finds_an_indonesian_only_fact(seeds_engine):
    # the GPU count is only in 003, which is in Indonesian
    answer = seeds_engine.ask("How many GPUs will Meta deploy by the end of the year?")
    assert answer.answered
    assert answer.passages[0].source == "003_f25e02178ca9b32d.txt"
    assert "1,3 juta GPU" in answer.passages[0].text


ROTTERDAM = (
    "Rotterdam Opens A Cycling Bridge Over The Maas\n\n"
    "Rotterdam opened a cycling bridge of 820 metres across the Maas river on Friday. "
    "The bridge cost 95 million euros and is expected to carry 30,000 cyclists a day.\n"
)
BERAS = (
    "Harga Beras Naik di Surabaya\n\n"
    "Harga beras medium di Surabaya naik menjadi Rp 14.000 per kilogram pekan ini. "
    "Pedagang di Pasar Wonokromo menyebut pasokan dari Lamongan berkurang karena banjir.\n"
)
KERETA = (
    "Kereta Cepat Menambah Jadwal Akhir Pekan\n\n"
    "Kereta cepat Jakarta-Bandung menambah 12 perjalanan setiap akhir pekan mulai bulan depan. "
    "Tiket termurah dijual seharga Rp 200.000.\n"
)


def test_an_indonesian_question_finds_an_english_passage(corpus, embedder):
    for name, text in (("rotterdam.txt", ROTTERDAM), ("beras.txt", BERAS), ("kereta.txt", KERETA)):
        (corpus / "seeds" / name).write_text(text, encoding="utf-8")
    engine = Engine.open(make_settings(corpus), embedder=embedder)
    answer = engine.ask("Berapa panjang jembatan sepeda yang dibuka di Rotterdam?")
    assert answer.answered
    assert answer.passages[0].source == "rotterdam.txt"
    assert "820 metres" in answer.passages[0].highlight


def test_page_footers_are_never_indexed(seeds_engine):
    # 001 ends with "Call to Action: Join the AI Evolution" and "Write A Comment"
    texts = [p.text for p in seeds_engine.data.passages]
    assert any("Rahul Patil" in t for t in texts)
    assert not any("Join the AI Evolution" in t or "Write A Comment" in t for t in texts)


def test_answer_shape(seeds_engine):
    answer = seeds_engine.ask("Who is Anthropic's new CTO?")
    # a one-fact question: one citation, the name as the short answer, in the question's language
    assert answer.answered and [c.rank for c in answer.passages] == [1]
    assert answer.short is not None and "Rahul Patil" in answer.short and answer.lang == "en"
    assert answer.short in answer.passages[0].highlight
    for c in answer.passages:
        assert c.highlight in c.text
        assert c.source.endswith(".txt") and c.title
        assert -1.0 <= c.score <= 1.0
    assert "Rahul Patil" in answer.passages[0].highlight


def test_out_of_scope_questions_are_declined(seeds_engine):
    for q in (
        "How do I bake sourdough bread?",
        "Siapa presiden pertama Amerika Serikat?",
        "What is the capital of Peru?",
    ):
        answer = seeds_engine.ask(q)
        assert not answer.answered and answer.reason == "not_covered" and answer.passages == ()


def test_empty_and_overlong_questions_get_a_clear_answer(seeds_engine):
    assert seeds_engine.ask("   \n ").reason == "empty"
    long = seeds_engine.ask("why " * 2500)
    assert not long.answered and long.reason == "too_long"


def test_the_same_fact_in_two_languages_does_not_crowd_out_the_rest(seeds_engine):
    answer = seeds_engine.ask("How much are OpenAI and Meta each pledging for computing power?")
    highlights = [c.highlight for c in answer.passages]
    assert sum("600" in h for h in highlights) == 1, highlights
    assert len({(c.source, c.highlight) for c in answer.passages}) == len(answer.passages)


def test_top_k_setting(tmp_path, embedder, seeds_engine):
    engine = Engine(RetrievalConfig.from_settings(make_settings(tmp_path, top_k=1)), embedder, seeds_engine.data)
    assert len(engine.ask("What does Scale AI do?").passages) == 1
