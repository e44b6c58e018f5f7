"""Follow-ups in a thread: `Engine.ask(question, history)` on articles written for these tests."""

import pytest

from bot.retrieval.engine import Engine
from bot.retrieval.questions import analyze, follow_up, refers_back
from tests.conftest import make_settings

ARTICLES = {
    "harbour.txt": (
        "Harbour Robotics Names A Head For Its Warehouse Unit\n\n"
        "Harbour Robotics has appointed Lena Marsh to lead its new warehouse automation unit. "
        "Marsh, 41, previously ran logistics at Baltic Freight for nine years. "
        "The unit will build picking robots for supermarket chains in northern Europe.\n"
    ),
    "ferries.txt": (
        "Delft Ferries Chairman Steps Down\n\n"
        "Pieter Vos has resigned as chairman of Delft Ferries after a dispute over new routes. "
        "Vos, 63, had chaired the ferry operator since 2011. "
        "The company carried 4.2 million passengers last year.\n"
    ),
    "kopi.txt": (
        "Kopi Senja Kumpulkan Dana Baru\n\n"
        "Jaringan kedai kopi Kopi Senja mengumpulkan dana Rp 120 miliar dari investor ventura. "
        "Pendiri Kopi Senja, Rani Hartono, yang berusia 35 tahun, mendirikan usaha itu di Malang pada 2016. "
        "Dana tersebut akan dipakai untuk membuka 80 gerai baru di Jawa Timur.\n"
    ),
    "koperasi.txt": (
        "Koperasi Nelayan Tuban Dapat Kapal Baru\n\n"
        "Koperasi Nelayan Tuban menerima 12 kapal baru dari pemerintah provinsi. "
        "Ketua koperasi, Bambang Sutrisno, yang berusia 58 tahun, mengatakan kapal itu akan dipakai mulai Maret. "
        "Anggota koperasi kini berjumlah 430 nelayan.\n"
    ),
}


@pytest.fixture(scope="module")
def thread_engine(tmp_path_factory, embedder) -> Engine:
    tmp = tmp_path_factory.mktemp("followups")
    (tmp / "seeds").mkdir()
    for name, text in ARTICLES.items():
        (tmp / "seeds" / name).write_text(text, encoding="utf-8")
    return Engine.open(make_settings(tmp), embedder=embedder)


@pytest.mark.parametrize(
    "first, follow, source, age",
    [
        ("Who leads the warehouse unit of Harbour Robotics?", "And how old is she?", "harbour.txt", "41"),
        ("Who chaired Delft Ferries?", "And how old is he?", "ferries.txt", "63"),
        ("Siapa pendiri Kopi Senja?", "Berapa umurnya?", "kopi.txt", "35"),
        ("Siapa ketua Koperasi Nelayan Tuban?", "Berapa usia dia?", "koperasi.txt", "58"),
    ],
)
def test_a_follow_up_is_searched_with_the_thread(thread_engine, first, follow, source, age):
    # the same follow-up gets a different answer in each thread: only the pair of questions finds it
    answer = thread_engine.ask(follow, history=[first])
    assert answer.answered and answer.question == follow
    assert answer.passages[0].source == source
    assert answer.short is not None and age in answer.short


def test_the_kind_and_language_come_from_the_new_question(thread_engine):
    answer = thread_engine.ask("Kapan dia mendirikannya?", history=["How much did Kopi Senja raise?"])
    assert answer.answered and answer.lang == "id"
    assert answer.passages[0].source == "kopi.txt" and answer.short == "2016"


@pytest.mark.parametrize(
    "first, follow, source, expected",
    [
        ("Who leads the warehouse unit of Harbour Robotics?", "How much did Kopi Senja raise?", "kopi.txt", "120"),
        ("Siapa pendiri Kopi Senja?", "How many passengers did Delft Ferries carry last year?", "ferries.txt", "4.2"),
        ("Who chaired Delft Ferries?", "Berapa kapal yang diterima Koperasi Nelayan Tuban?", "koperasi.txt", "12"),
    ],
)
def test_a_self_contained_question_keeps_its_own_topic(thread_engine, first, follow, source, expected):
    answer = thread_engine.ask(follow, history=[first])
    assert answer.answered
    assert answer.passages[0].source == source
    assert answer.short is not None and expected in answer.short


@pytest.mark.parametrize(
    "history, follow",
    [
        (["Who leads the warehouse unit of Harbour Robotics?"], "And what is her salary?"),
        (["Who is the chief executive of Google?"], "How old is he?"),
        (["Siapa presiden Bank Dunia?"], "Berapa umurnya?"),
    ],
)
def test_a_follow_up_the_articles_do_not_cover_is_declined(thread_engine, history, follow):
    answer = thread_engine.ask(follow, history=history)
    assert not answer.answered and answer.reason == "not_covered"


def test_no_history_is_the_question_alone(thread_engine):
    alone = thread_engine.ask("How much did Kopi Senja raise?")
    assert thread_engine.ask("How much did Kopi Senja raise?", history=[]) == alone
    assert thread_engine.ask("How much did Kopi Senja raise?", history=["", "  "]) == alone


@pytest.mark.parametrize(
    "question, leans",
    [
        ("And how old is he?", True),
        ("What about Baltic Freight?", True),
        ("When did it open?", True),
        ("Berapa umurnya?", True),
        ("Kapan dia lahir?", True),
        ("Dan CEO-nya?", True),
        ("How old?", True),
        ("How much did Kopi Senja raise?", False),
        ("Siapa pendiri Kopi Senja?", False),
        ("How does a heat pump work?", False),
    ],
)
def test_refers_back(question, leans):
    assert refers_back(analyze(question)) is leans


def test_follow_up_keeps_the_new_question_and_adds_the_thread():
    q = follow_up(analyze("Berapa umurnya?"), ("Who founded Kopi Senja in 2016?",))
    assert q.text == "Berapa umurnya?" and q.kind == "how_many" and q.lang == "id"
    assert "Kopi" in q.names and "2016" in q.numbers
    assert q.searched == "Who founded Kopi Senja in 2016? Berapa umurnya?"


def test_seeds_follow_up_finds_alexandr_wangs_age(seeds_engine):
    answer = seeds_engine.ask("and how old is he?", history=["who leads Meta's superintelligence unit?"])
    assert answer.answered
    assert "28" in answer.passages[0].highlight and answer.short is not None and "28" in answer.short
