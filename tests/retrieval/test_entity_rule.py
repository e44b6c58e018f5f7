"""The relation rule of trust.py on sentences written for these tests (English, Indonesian, Spanish):
a passage answers "X's CEO / founder / revenue" only if it states that relation, and for a role,
states it for X rather than for another name beside it."""

from __future__ import annotations

import pytest

from bot.retrieval import questions, trust


def reason(question: str, sentence: str, passage: str | None = None) -> str:
    return trust.unstated_relation(questions.analyze(question), sentence, passage or sentence)


@pytest.mark.parametrize(
    ("question", "relation"),
    [
        ("Who is the chief executive of Lumen Rail?", "ceo"),
        ("Siapa CEO Lumen Rail?", "ceo"),
        ("¿Quién es el consejero delegado de Lumen Rail?", "ceo"),
        ("Who founded Pelican Foods?", "founder"),
        ("Siapa pendiri Pelican Foods?", "founder"),
        ("What was Pelican Foods' revenue last year?", "revenue"),
        ("Berapa pendapatan Pelican Foods tahun lalu?", "revenue"),
        ("Where is Pelican Foods headquartered?", "headquarters"),
        ("Di kota mana kantor pusat Pelican Foods?", "headquarters"),
        ("Berapa harga saham Pelican Foods hari ini?", "share_price"),
        ("How many employees does Pelican Foods have?", "employees"),
        ("Siapa direktur keuangan Lumen Rail?", "cfo"),
    ],
)
def test_a_question_names_the_relation_it_asks_in_each_language(question, relation):
    assert relation in questions.relations(questions.analyze(question))


@pytest.mark.parametrize(
    "question",
    [
        "Why did Lumen Rail replace its chief executive?",
        "Mengapa Pelican Foods mengganti CEO-nya?",
        "How many trains does Lumen Rail run?",
        "How much did Pelican Foods shares rise?",  # shares, not the share price
    ],
)
def test_no_relation_is_asked_by_a_why_question_or_one_about_something_else(question):
    assert questions.relations(questions.analyze(question)) == ()


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        # the passage never states the relation, however close it is
        ("Who founded Pelican Foods?", "Pelican Foods chief executive Maria Okafor opened a bakery in Leeds."),
        ("Siapa pendiri Pelican Foods?", "Direktur utama Pelican Foods, Budi Santoso, membuka pabrik roti di Bekasi."),
        ("What was Pelican Foods' revenue last year?", "Pelican Foods opened 12 bakeries last year."),
        ("Berapa jumlah karyawan Pelican Foods?", "Pelican Foods membuka 12 toko roti di Bekasi tahun lalu."),
        ("Berapa harga saham Pelican Foods hari ini?", "Saham Pelican Foods naik 4% setelah pengumuman itu."),
        ("Where is Pelican Foods headquartered?", "Pelican Foods opened a bakery in Leeds on Monday."),
        ("Who is the CFO of Lumen Rail?", "Lumen Rail chief executive Tom Berg said the line opens in May."),
        # the role is stated, but for another name beside it
        ("Siapa CEO Lumen Rail?", "Menurut CEO Orbit Bus Hana Pratiwi, jalur baru Lumen Rail akan dibuka Mei."),
        ("Who is the CEO of Lumen Rail?", "Former Orbit Bus CEO Hana Pratiwi praised the new Lumen Rail line."),
        ("Who is the CEO of Lumen Rail?", "Lumen Rail signed the deal with the CEO of Orbit Bus, Hana Pratiwi."),
        ("¿Quién es el consejero delegado de Lumen Rail?", "Lumen Rail firmó con el consejero delegado de Orbit Bus."),
    ],
)
def test_a_passage_that_does_not_state_the_relation_for_the_entity_cannot_answer(question, sentence):
    assert reason(question, sentence)


@pytest.mark.parametrize(
    ("question", "sentence", "passage"),
    [
        ("Who is the chief executive of Lumen Rail?", "said Tom Berg, chief executive of Lumen Rail.", None),
        ("Siapa CEO Lumen Rail?", "CEO Lumen Rail Tom Berg mengatakan jalur itu dibuka Mei.", None),
        ("Who is Lumen Rail's CEO?", "Lumen Rail's CEO Tom Berg said the line opens in May.", None),
        (
            "¿Quién es el consejero delegado de Lumen Rail?",
            "El consejero delegado de Lumen Rail, Tom Berg, viajó.",
            None,
        ),
        # appointed from another company: the new role is the entity's, the old one another's
        (
            "Who is Lumen Rail's new CTO?",
            "Lumen Rail hired former Orbit Bus CTO Ana Silva as its new chief technology officer.",
            None,
        ),
        (
            "Siapa CTO baru Lumen Rail?",
            "Lumen Rail mengangkat mantan CTO Orbit Bus Ana Silva sebagai Chief Technology Officer baru.",
            None,
        ),
        # the role stands alone in a passage about the entity
        (
            "Who is Lumen Rail's chief financial officer?",
            '"Costs are under control," chief financial officer Ana Silva told analysts.',
            'Lumen Rail reported a profit. "Costs are under control," chief financial officer Ana Silva told analysts.',
        ),
        ("Where is Pelican Foods headquartered?", "Leeds-based Pelican Foods opened a bakery in York.", None),
        ("Di kota mana kantor pusat Pelican Foods?", "Kantor pusat Pelican Foods berada di Bandung.", None),
        ("Berapa pendapatan Pelican Foods tahun lalu?", "Pendapatan Pelican Foods naik menjadi Rp 2 triliun.", None),
        ("Why did Lumen Rail hire a new CTO?", "Lumen Rail needs to rebuild its signalling software.", None),
    ],
)
def test_a_passage_that_states_the_relation_for_the_entity_may_answer(question, sentence, passage):
    assert reason(question, sentence, passage) == ""


@pytest.mark.parametrize(
    ("sentence", "role", "holder"),
    [
        ("Former Orbit Bus CEO Hana Pratiwi spoke.", "CEO", "Bus"),
        ("CEO Orbit Hana Pratiwi berbicara.", "CEO", "Orbit"),
        ("She met the CEO of Orbit yesterday.", "CEO", "Orbit"),
        ("chief financial officer Ana Silva told analysts.", "chief financial officer", None),
        ("Silva, chief executive of Orbit, spoke.", "chief executive", "Orbit"),
        ("Ana Silva sebagai CTO baru.", "CTO", None),
    ],
)
def test_the_name_a_role_is_tied_to(sentence, role, holder):
    start = sentence.index(role)
    assert questions.role_holder(sentence, start, start + len(role)) == holder


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("How many employees does Pelican Foods have?", "Pelican Foods employs 340 people in Leeds."),
        ("Berapa jumlah karyawan Pelican Foods?", "Pelican Foods mempekerjakan 1.200 orang di Bekasi."),
        ("¿Cuántos empleados tiene Pelican Foods?", "Pelican Foods emplea a 900 trabajadores en Sevilla."),
    ],
)
def test_a_relation_is_stated_in_the_words_of_each_language(question, sentence):
    assert reason(question, sentence) == ""


def test_a_role_standing_alone_beside_another_companys_is_not_the_entity_the_sentence_leaves_out():
    """ "its new CTO" is the hiring company's; a company named only elsewhere in the passage is not meant."""
    sentence = "Lumen Rail hired former Orbit Bus CTO Ana Silva as its new chief technology officer."
    passage = f"Harbor Line and Lumen Rail compete for the northern routes. {sentence}"
    assert reason("Who is Harbor Line's CTO?", sentence, passage)
    assert reason("Siapa CTO Harbor Line?", sentence, passage)
    assert reason("Who is Lumen Rail's CTO?", sentence, passage) == ""


@pytest.mark.parametrize(
    ("question", "sentence", "tied"),
    [
        ("Who is the president of Lumen Rail?", "Presiden Lumen Rail Budi Santoso berbicara.", True),
        ("Who is the president of Lumen Rail?", "Lumen Rail's president, Budi Santoso, spoke.", True),
        ("Siapa presiden Lumen Rail?", "She met the president of Lumen Rail on Monday.", True),
        ("Who is the president of Lumen Rail?", "President Ana Silva said Lumen Rail would follow.", False),
        ("Who is the president of Lumen Rail?", "Presiden Orbit Bus Ana Silva menyindir Lumen Rail.", False),
    ],
)
def test_a_role_is_tied_to_the_entity_only_by_a_name_beside_it(question, sentence, tied):
    """Naming both is not enough to move a passage first (trust.role_first): the role must sit beside the name."""
    assert questions.role_tied(questions.analyze(question), "president", sentence) is tied
