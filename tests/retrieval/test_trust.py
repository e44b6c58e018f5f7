"""Declining what the articles don't cover, on a small archive written for these tests (English and
Indonesian; not the seeds), with the real model and a real index."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from bot.retrieval import lexical, places, questions, trust
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.engine import Engine
from bot.retrieval.search import search
from tests.conftest import make_settings

ARTICLES = {
    "kopi_id.txt": (
        "Kopi Lembah Hijau Buka Pabrik Sangrai di Temanggung\n\n"
        "PT Kopi Lembah Hijau meresmikan pabrik sangrai kopi baru di Temanggung, Jawa Tengah. "
        "Pabrik itu mampu menyangrai 1.200 ton kopi per tahun dan mempekerjakan 85 orang dari desa-desa sekitar. "
        "Direktur utama Kopi Lembah Hijau, Sari Wulandari, mengatakan perusahaan membeli biji kopi langsung dari "
        "petani lereng Gunung Sumbing. Pabrik tersebut mulai beroperasi pada 3 Februari 2025. Menurut Sari, kopi "
        "hasil sangrai akan dijual ke kafe di Semarang dan Yogyakarta.\n"
    ),
    "ferry_en.txt": (
        "Harbor Kite wins praise for quiet electric ferries\n\n"
        "Harbor Kite, a ferry operator on the fjords near Bergen, has replaced its diesel boats with electric "
        "ferries. Passengers say the crossings are now quiet enough to hear the seabirds. The batteries were built "
        "in Sweden. The company's crews were trained to handle the new batteries and chargers at the docks. Local "
        "fishermen welcomed the change because the water near the piers is cleaner. Harbor Kite says its timetable "
        "stays the same through the winter.\n"
    ),
    "library_en.txt": (
        "Tromsø opens a library under the northern lights\n\n"
        "The city of Tromsø opened a new public library on a hill above the harbour in 2024. The building has a "
        "glass roof so that readers can watch the northern lights in winter. Librarians said the reading rooms were "
        "full on the first weekend. The library lends books in Norwegian, Sami and English.\n"
    ),
}


def write_archive(root, articles=ARTICLES):
    (root / "seeds").mkdir(exist_ok=True)
    for name, text in articles.items():
        (root / "seeds" / name).write_text(text, encoding="utf-8")


def open_archive(tmp_path_factory, embedder, name: str, articles=ARTICLES) -> Engine:
    root = tmp_path_factory.mktemp(name)
    write_archive(root, articles)
    return Engine.open(make_settings(root), embedder=embedder)


@pytest.fixture(scope="module")
def archive(tmp_path_factory, embedder) -> Engine:
    return open_archive(tmp_path_factory, embedder, "trust-archive")


def verdict(engine: Engine, question: str) -> trust.Verdict:
    result = search(engine.data, engine.embedder.query(question), question, engine.config.top_k)
    return trust.judge(questions.analyze(question), result, engine.data, engine.min_relevance)


@pytest.mark.parametrize(
    "question",
    [
        "How many tons of coffee does Zephyrine Roasters roast per year?",
        "Berapa ton kopi yang disangrai Zephyrine Roasters per tahun?",
    ],
)
def test_a_question_naming_what_the_archive_never_mentions_is_declined(archive, question):
    answer = archive.ask(question)
    assert not answer.answered and answer.reason == "not_covered"
    assert "Zephyrine" in verdict(archive, question).why


@pytest.mark.parametrize(
    "question",
    [
        "How many employees does Harbor Kite have?",  # the ferry article counts nothing
        "Berapa jumlah karyawan Harbor Kite?",
        "When was Harbor Kite founded?",  # ... and dates nothing
    ],
)
def test_a_related_question_the_articles_do_not_answer_is_declined(archive, question):
    """The question names the ferry operator the archive reports on, so similarity alone would answer."""
    v = verdict(archive, question)
    assert not v.covered and "holds no" in v.why
    assert v.score + trust.RULE_PENALTY >= archive.min_relevance  # the rule declined it, not the similarity
    assert not archive.ask(question).answered


@pytest.mark.parametrize(
    "question", ["Who is the chief executive of Harbor Kite?", "Siapa direktur utama Harbor Kite?"]
)
def test_a_relation_the_archive_states_only_for_another_company_is_declined(archive, question):
    """The ferry article names places (Bergen, Sweden), so a who-question finds a name there; only the
    coffee article names a chief executive ("Direktur utama Kopi Lembah Hijau"), of another company."""
    v = verdict(archive, question)
    assert not v.covered and v.why.startswith("the answering") and "the ceo" in v.why
    assert v.score + trust.RULE_PENALTY >= archive.min_relevance  # the rule declined it, not the similarity
    assert not archive.ask(question).answered


def test_a_figure_the_answering_passage_does_not_state_is_declined(archive):
    """2024 is in the archive (the library), not in the coffee article that answers about coffee."""
    question = "How much coffee did Kopi Lembah Hijau roast in 2024?"
    v = verdict(archive, question)
    assert not v.covered and v.why == "the answering passage does not mention 2024"
    assert not archive.ask(question).answered


# Two data centres, and a company named only in passing in a third article: its name is in the archive,
# but the data-centre words of a question about it find the other companies' passages.
SUBJECTS = {
    "datacentre_en.txt": (
        "Fjordkraft Compute to build a data centre near Narvik\n\n"
        "Fjordkraft Compute will build a 300-megawatt data centre near Narvik in northern Norway, the company said on "
        "Tuesday. The site will draw power from hydroelectric plants in the valley and will be cooled by outside air "
        "for most of the year. Construction starts in the spring and the first halls open in 2027.\n"
    ),
    "pusatdata_id.txt": (
        "Nusa Digital bangun pusat data di Batam\n\n"
        "Nusa Digital akan membangun pusat data berkapasitas 120 megawatt di Batam, kata perusahaan itu pada Senin. "
        "Pusat data tersebut akan memakai listrik dari PLTS terapung di waduk Duriangkang dan mulai beroperasi "
        "pada Maret 2028.\n"
    ),
    "bakery_en.txt": (
        "Pelican Foods opens 12 bakeries in Leeds\n\n"
        "The bakery chain Pelican Foods opened 12 new shops in Leeds this month. Its online orders now run on "
        "servers rented from Lumen Cloud, a start-up from Manchester. Sourdough and scones sell best, the shop "
        "managers said.\n"
    ),
}


@pytest.fixture(scope="module")
def subjects(tmp_path_factory, embedder) -> Engine:
    return open_archive(tmp_path_factory, embedder, "subjects-archive", SUBJECTS)


@pytest.mark.parametrize(
    "question",
    [
        "How many megawatts will Lumen Cloud's data centre have?",
        "When will Lumen Cloud open its data centre?",
        "Berapa megawatt kapasitas pusat data Lumen Cloud?",
        "Kapan pusat data Lumen Cloud mulai beroperasi?",
        "¿Cuántos megavatios tendrá el centro de datos de Lumen Cloud?",
    ],
)
def test_a_passage_about_another_company_does_not_answer_for_the_one_asked_about(subjects, question):
    """Without the rule each is answered with another company's figure or date ("300-megawatt", "Maret 2028")."""
    v = verdict(subjects, question)
    assert not v.covered and v.why == "the answering passage does not name Lumen Cloud"
    assert v.score + trust.RULE_PENALTY >= subjects.min_relevance  # the rule declined it, not the similarity
    assert not subjects.ask(question).answered


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("How many megawatts will Fjordkraft Compute's data centre have?", "300-megawatt"),
        ("How many megawatts will the Narvik data centre have?", "300-megawatt"),  # a place names it too
        ("Berapa megawatt kapasitas pusat data Nusa Digital?", "120 megawatt"),
        ("¿Cuántos megavatios tendrá el centro de datos de Nusa Digital?", "120 megawatt"),
    ],
)
def test_a_passage_that_names_the_subject_answers(subjects, question, short):
    answer = subjects.ask(question)
    assert answer.answered and answer.short == short


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("How many tons of coffee can the Temanggung plant roast each year?", "kopi_id.txt"),  # en -> id
        ("Who runs Kopi Lembah Hijau?", "kopi_id.txt"),
        ("Di mana Harbor Kite mengoperasikan kapal feri?", "ferry_en.txt"),  # id -> en
        ("Siapa direktur utama Kopi Lembah Hijau?", "kopi_id.txt"),
    ],
)
def test_covered_questions_are_answered_across_languages(archive, question, source):
    answer = archive.ask(question)
    assert answer.answered, verdict(archive, question)
    assert answer.passages[0].source == source
    assert answer.confidence == verdict(archive, question).score >= archive.min_relevance


def test_chat_markup_in_a_question_is_not_a_name_or_figure_of_it(archive):
    """A role mention left in a chat message (<@&42>) is not a figure the archive must state."""
    question = "Who runs Kopi Lembah Hijau? @everyone <@&42>"
    assert trust.salient_terms(questions.analyze(question)) == ("Kopi", "Lembah", "Hijau")
    assert archive.ask(question).answered


def test_the_setting_is_the_line_on_the_score(archive, tmp_path, embedder):
    """NEWSBOT_MIN_RELEVANCE a hair either side of a question's own score: no model score assumed."""
    question = "Who runs Kopi Lembah Hijau?"
    score = verdict(archive, question).score
    for threshold, answered in ((score - 0.001, True), (score + 0.001, False)):
        config = RetrievalConfig.from_settings(make_settings(tmp_path, min_relevance=round(threshold, 6)))
        answer = Engine(config, embedder, archive.data).ask(question)
        assert answer.answered is answered
        assert answer.confidence == pytest.approx(score)


def test_names_known_in_another_form_are_not_unknown(archive):
    data = archive.data
    assert trust.unknown_terms(questions.analyze("Did a Swedish firm build the batteries?"), data) == ()
    assert trust.unknown_terms(questions.analyze("Did a Finnish firm build the batteries?"), data) == ("Finnish",)
    assert trust.unknown_terms(questions.analyze("Kapan Harbor Kite membeli feri dari Oslo?"), data) == ("Oslo",)


def test_a_country_named_in_another_language_is_known_in_the_articles_language(archive):
    """The articles say "Sweden"; a Spanish question says "Suecia", which no form of the word matches."""
    data = archive.data
    assert trust.unknown_terms(questions.analyze("¿Las baterías de Harbor Kite se fabricaron en Suecia?"), data) == ()
    assert trust.unknown_terms(questions.analyze("¿Las baterías se fabricaron en Finlandia?"), data) == ("Finlandia",)
    assert trust.unknown_terms(questions.analyze("Apakah Harbor Kite berlayar ke Islandia?"), data) == ("Islandia",)
    assert (
        "never mentions"
        not in archive.explain("¿Dónde se fabricaron las baterías de Harbor Kite, en Suecia?").verdict.why
    )


@pytest.mark.parametrize(
    ("text", "place", "also"),
    [
        ("¿Cuánto cuesta la eólica marina en el Sudeste Asiático?", "Sudeste Asiático", "Southeast Asia"),
        ("Berapa investasi Meta di Amerika Serikat?", "Amerika Serikat", "United States"),
        ("Wie viel kostet ein Windpark in Südostasien?", "Südostasien", "Asia Tenggara"),
        ("What did the port of Bergen in Norway buy?", "Norway", "Norwegia"),
        # abbreviated by the initials of its name in English, Indonesian or Malay
        ("How much will Meta invest in US data centres?", "US", "Amerika Serikat"),
        ("Berapa investasi Meta di A.S. tahun ini?", "A.S.", "United States"),
        ("Which UAE fund invested?", "UAE", "Uni Emirat Arab"),
    ],
)
def test_a_place_is_found_with_its_names_in_other_languages(text, place, also):
    assert [(found, also in names) for found, names in places.places(text)] == [(place, True)]


def test_only_whole_words_name_a_place():
    assert places.places("Perusahaan itu membangun pabrik; Omani? no, Chadwick and Perugia.") == []
    assert places.places("Tell us as much as you can; USB sticks and a U.S.S.R. poster.") == []  # in capitals, whole


def test_a_country_the_question_abbreviates_is_known_by_any_of_its_names_in_the_articles():
    """ "US" in an English question, "A.S." or "Amerika Serikat" in an Indonesian archive."""

    def archive_of(text: str):
        return SimpleNamespace(word_lists=[sorted(set(lexical.tokens(text)))])

    asked = questions.analyze("Until when will Meta invest in US infrastructure?")
    assert trust.unknown_terms(asked, archive_of("Meta berinvestasi di infrastruktur A.S. hingga 2028.")) == ()
    assert trust.unknown_terms(asked, archive_of("Meta berinvestasi di Amerika Serikat hingga 2028.")) == ()
    assert trust.unknown_terms(asked, archive_of("Meta berinvestasi di Jerman hingga 2028.")) == ("US",)


# --- the rules' reading of a question and a sentence, without the model -------------------------


@pytest.mark.parametrize(
    ("question", "salient"),
    [
        ("Besides Nusantara and Kelinci, who invested?", ("Nusantara", "Kelinci")),  # a plain first word is no name
        ("OpenAI raised how much?", ("OpenAI",)),  # a brand opening the question still is
        # a relation's name is for the relation rule, which reads "chief technology officer" too
        ("CTO baru Nusantara siapa?", ("Nusantara",)),
        ("Who is the CFO of Volcano Robotics?", ("Volcano", "Robotics")),
        ("Berapa pendapatan Volcano Robotics pada 2024?", ("Volcano", "Robotics", "2024")),
        ("¿Quién dirige Ventisca Solar?", ("Ventisca", "Solar")),
    ],
)
def test_salient_terms_are_names_and_figures(question, salient):
    assert trust.salient_terms(questions.analyze(question)) == salient


@pytest.mark.parametrize(
    ("question", "sentence", "holds"),
    [
        ("How many people work at Volcano Robotics?", "Volcano Robotics employs 340 people in Oslo.", True),
        ("How many people work at Volcano Robotics?", "Volcano Robotics builds robots in Oslo.", False),
        ("Berapa karyawan Kelinci Emas?", "Kelinci Emas mempekerjakan 1.200 orang.", True),
        ("Berapa karyawan Kelinci Emas?", "Kelinci Emas membuka kantor di Bandung.", False),
        ("When did Kelinci Emas open its office?", "Kelinci Emas opened its office on 4 March 2025.", True),
        ("When did Kelinci Emas open its office?", "Kelinci Emas opened its office in Bandung.", False),
        ("Siapa CEO Kelinci Emas?", "CEO Kelinci Emas, Budi Santoso, membuka kantor itu.", True),
        ("Siapa CEO Kelinci Emas?", "Kelinci Emas membuka kantor baru.", False),
        ("Why did Kelinci Emas move?", "The rent went up.", True),  # no kind of answer to look for
    ],
)
def test_a_sentence_holds_the_kind_of_answer_asked_for(question, sentence, holds):
    assert trust.holds_answer(questions.analyze(question), sentence) is holds


def test_figures_match_across_decimal_separators():
    asked = questions.analyze("Did Nusantara sell 1.3 million chips in 2024?")
    assert trust.missing_figures(asked, "Nusantara menjual 1,3 juta cip pada 2024.") == ()
    assert trust.missing_figures(asked, "Nusantara menjual 1,3 juta cip pada 2023.") == ("2024",)


def test_a_plain_answer_is_a_span_of_the_kind_asked_next_to_the_question_words():
    asked = questions.analyze("Berapa umur Sari Wulandari?")
    passage = "Direktur utama itu, Sari Wulandari, yang berusia 47 tahun, membeli biji kopi dari petani."
    assert trust.plain_answer(asked, passage, (0, len(passage)))
    far = "Sari Wulandari memimpin perusahaan itu sejak lama, dan menurut laporan tahunan yang terbit kemarin sore ia berusia 47 tahun."
    assert not trust.plain_answer(asked, far, (0, len(far)))  # an age, but far from her name
    assert not trust.plain_answer(questions.analyze("Why did Sari Wulandari move?"), passage, (0, len(passage)))


def test_a_plain_answer_raises_the_score_by_the_bonus_and_nothing_else(archive, monkeypatch):
    plain, vague = (
        "How many tons of coffee can the Temanggung plant roast a year?",
        "Why did Harbor Kite change its boats?",
    )
    with_bonus = [verdict(archive, q).score for q in (plain, vague)]
    monkeypatch.setattr(trust, "ANSWER_BONUS", 0.0)
    without = [verdict(archive, q).score for q in (plain, vague)]
    assert with_bonus[0] - without[0] == pytest.approx(0.005)
    assert with_bonus[1] == without[1]


PRESIDENTS = {
    "orbit_en.txt": (
        "Orbit Bus adds night routes\n\n"
        "Orbit Bus will run night buses between the airport and the old town from May. "
        "President Ana Silva said the routes would pay for themselves within two years.\n"
    ),
    "lumen_id.txt": (
        "Lumen Rail menambah kereta malam\n\n"
        "Presiden Lumen Rail Budi Santoso mengatakan kereta malam akan berjalan setiap akhir pekan mulai Juni.\n"
    ),
}


@pytest.fixture(scope="module")
def presidents(tmp_path_factory, embedder) -> Engine:
    return open_archive(tmp_path_factory, embedder, "presidents", PRESIDENTS)


def _first_from(engine: Engine, question: str, source: str):
    """The search's hits for `question`, the first one from `source` moved first."""
    result = search(engine.data, engine.embedder.query(question), question, engine.config.top_k)
    hits = sorted(result.hits, key=lambda h: engine.data.passages[h.index].source != source)
    return replace(result, hits=tuple(hits))


@pytest.mark.parametrize("question", ["Who is the president of Lumen Rail?", "Siapa presiden Lumen Rail?"])
def test_a_role_given_for_another_gives_way_to_the_hit_that_ties_it_to_the_entity(presidents, question):
    """First, a passage whose president is Orbit Bus's; second, one that says "Presiden Lumen Rail"."""
    asked = questions.analyze(question)
    wrong_first = _first_from(presidents, question, "orbit_en.txt")
    assert trust._gives_role_of_another(asked, wrong_first.hits[0], presidents.data)
    assert not trust.judge(asked, wrong_first, presidents.data, presidents.min_relevance).covered
    moved = trust.role_first(asked, wrong_first, presidents.data)
    assert presidents.data.passages[moved.hits[0].index].source == "lumen_id.txt"
    assert set(moved.hits) == set(wrong_first.hits)
    answer = presidents.ask(question)
    assert answer.answered and answer.short == "Budi Santoso"


def test_a_role_tied_to_no_name_of_the_question_moves_nothing(presidents):
    """Neither passage ties the presidency to Harbor Kite: the first stays, and the judge declines on it."""
    question = "Who is the president of Harbor Kite?"
    asked = questions.analyze(question)
    first = _first_from(presidents, question, "orbit_en.txt")
    assert trust.role_first(asked, first, presidents.data) is first
    assert not presidents.ask(question).answered


BASES = {
    "tidewater_outlook_en.txt": (
        "Tidewater Grid sees solar demand doubling in Iberia\n\n"
        "Demand for rooftop solar in Spain and Portugal could double by 2030, according to an outlook published "
        "on Monday by Tidewater Grid. The report expects falling panel prices and higher power bills to push "
        "households and small firms to install panels on their roofs. Tidewater Grid also warns that local grids "
        "will need new transformers to carry the power back to the network at midday. Installers told the "
        "authors that waiting lists for a rooftop system are now longer than four months in Andalusia.\n\n"
        "The report's authors interviewed more than 200 installers. Tidewater Grid, the Lisbon-based consultancy, "
        "has published the outlook every year since 2019.\n"
    ),
    "tidewater_fees_en.txt": (
        "Tidewater Grid raises its fees for grid studies\n\n"
        "Chief financial officer Marta Reis said Tidewater Grid will charge more for its grid connection studies "
        "from January, as the studies now take twice as long as three years ago.\n"
    ),
    "orbit_id.txt": (
        "Orbit Bus membeli 40 bus listrik\n\n"
        "Orbit Bus membeli 40 bus listrik untuk rute bandara. Direktur keuangan Joko Pranoto mengatakan kajian "
        "jaringan dari Tidewater Grid membantu perusahaan memilih lokasi pengisian daya. Tidewater Grid mempekerjakan "
        "120 orang di kantornya.\n"
    ),
}


@pytest.fixture(scope="module")
def bases(tmp_path_factory, embedder) -> Engine:
    return open_archive(tmp_path_factory, embedder, "bases", BASES)


def _found(engine: Engine, question: str, first_source: str):
    """The question, the search's hits led by a passage of `first_source` that does not state what
    is asked (as a search may rank it), and the deeper search."""
    asked = questions.analyze(question)
    qvec = engine.embedder.query(question)
    result = search(engine.data, qvec, question, engine.config.top_k)
    deeper = search(engine.data, qvec, question, trust.DEEPER)
    first = next(
        h
        for h in deeper.hits
        if engine.data.passages[h.index].source == first_source
        and not any(questions.states(r, engine.data.passages[h.index].text) for r in questions.relations(asked))
    )
    hits = (first, *(h for h in result.hits if h.index != first.index))[: len(result.hits)]
    return asked, replace(result, hits=hits), lambda: deeper


@pytest.mark.parametrize(
    ("question", "first", "moved", "short"),
    [
        # the first passage is about Tidewater's outlook and never says where it is based
        ("Where is Tidewater Grid based?", "tidewater_outlook_en.txt", "tidewater_outlook_en.txt", "Lisbon"),
        ("Where is Tidewater Grid headquartered?", "tidewater_fees_en.txt", "tidewater_outlook_en.txt", "Lisbon"),
        # a role standing alone, in an article whose title names the company
        (
            "Who is Tidewater Grid's chief financial officer?",
            "tidewater_outlook_en.txt",
            "tidewater_fees_en.txt",
            "Marta Reis",
        ),
        ("Siapa CFO Tidewater Grid?", "tidewater_outlook_en.txt", "tidewater_fees_en.txt", "Marta Reis"),
    ],
)
def test_a_passage_further_down_that_ties_the_relation_to_the_entity_goes_first(bases, question, first, moved, short):
    asked, result, deeper = _found(bases, question, first)
    top = bases.data.passages[result.hits[0].index]
    assert top.source == first
    assert not trust.judge(asked, result, bases.data, bases.min_relevance).covered
    rescued = trust.further_down(asked, result, bases.data, deeper)
    hit = rescued.hits[0]
    assert bases.data.passages[hit.index].source == moved and hit not in result.hits[:1]
    assert len(rescued.hits) == len(result.hits)
    answer = bases.ask(question)
    assert answer.answered and answer.short == short


def test_a_role_standing_alone_in_another_companys_article_is_not_the_entitys(bases):
    """ "Direktur keuangan Joko Pranoto" in an article about Orbit Bus that names Tidewater Grid: Orbit's CFO."""
    question = "Siapa direktur keuangan Tidewater Grid?"
    asked, result, _ = _found(bases, question, "tidewater_outlook_en.txt")
    orbit = next(i for i, p in enumerate(bases.data.passages) if p.source == "orbit_id.txt")
    only_orbit = search(bases.data, bases.embedder.query(question), question, trust.DEEPER)
    only_orbit = replace(only_orbit, hits=(result.hits[0], *(h for h in only_orbit.hits if h.index == orbit)))
    assert len(only_orbit.hits) == 2
    assert questions.role_alone("cfo", bases.data.passages[orbit].text)
    assert trust.further_down(asked, result, bases.data, lambda: only_orbit) is result


def test_a_why_question_is_not_looked_for_further_down(bases):
    asked, result, _ = _found(bases, "Why is Tidewater Grid based in Lisbon?", "tidewater_fees_en.txt")

    def deeper():
        raise AssertionError("searched further down")

    assert trust.further_down(asked, result, bases.data, deeper) is result


def test_a_first_hit_tying_the_relation_to_the_entity_raises_the_score_by_the_tied_bonus(bases, monkeypatch):
    tied, untied = "Where is Tidewater Grid based?", "How many employees does Tidewater Grid have?"
    found = {q: bases.explain(q) for q in (tied, untied)}
    first = found[tied].result.hits[0]
    assert "Lisbon-based" in bases.data.passages[first.index].text[slice(*first.highlight)]
    monkeypatch.setattr(trust, "TIED_BONUS", 0.0)
    without = {q: trust.judge(f.asked, f.result, bases.data, bases.min_relevance).score for q, f in found.items()}
    assert found[tied].verdict.score - without[tied] == pytest.approx(trust.DEFAULT_THRESHOLD)
    assert found[untied].verdict.score == without[untied]  # a relation word order cannot tie: no bonus


def test_a_first_passage_stating_the_relation_keeps_its_place(bases):
    question = "Where is Tidewater Grid based?"
    asked, result, deeper = _found(bases, question, "tidewater_outlook_en.txt")
    stating = next(h for h in deeper().hits if "Lisbon-based" in bases.data.passages[h.index].text)
    result = replace(result, hits=(stating, *(h for h in result.hits if h != stating)))
    assert trust.further_down(asked, result, bases.data, deeper) is result


DATES = {
    "ferry_en.txt": (
        "Harbor Kite opens an electric ferry line across the fjord\n\n"
        "Harbor Kite's new electric ferry line links the two sides of the fjord near Bergen. Passengers praised "
        "the quiet crossings, and fishermen said the water near the piers was cleaner.\n"
    ),
    "ferry_id.txt": (
        "Feri listrik Harbor Kite mulai berlayar\n\n"
        "Pada 14 Maret 2026, Harbor Kite membuka jalur feri listrik pertamanya di dekat Bergen. Kapal itu "
        "membawa 200 penumpang.\n"
    ),
    "bus_es.txt": (
        "Orbit Bus estrena autobuses eléctricos\n\n"
        "El 2 de mayo de 2026 Orbit Bus estrenó veinte autobuses eléctricos en Bergen, donde también opera "
        "una línea de ferris.\n"
    ),
}


@pytest.fixture(scope="module")
def dates(tmp_path_factory, embedder) -> Engine:
    return open_archive(tmp_path_factory, embedder, "dates", DATES)


@pytest.mark.parametrize(
    "question", ["When did Harbor Kite open its electric ferry line?", "¿Cuándo abrió Harbor Kite su línea de ferri?"]
)
def test_a_date_beside_the_names_further_down_goes_before_a_first_hit_without_one(dates, question):
    asked, result, deeper = _found(dates, question, "ferry_en.txt")
    assert not trust.judge(asked, result, dates.data, dates.min_relevance).covered
    moved = trust.further_down(asked, result, dates.data, deeper)
    assert dates.data.passages[moved.hits[0].index].source == "ferry_id.txt"
    answer = dates.ask(question)
    assert answer.answered and answer.short == "14 Maret 2026"


def test_a_date_in_a_passage_not_naming_what_is_asked_stays_below(dates):
    """Orbit Bus's date, in Bergen where ferries run too, does not date Harbor Kite's line."""
    question = "When did Harbor Kite open its electric ferry line?"
    asked, result, deeper = _found(dates, question, "ferry_en.txt")
    orbit = replace(
        deeper(), hits=tuple(h for h in deeper().hits if dates.data.passages[h.index].source == "bus_es.txt")
    )
    assert orbit.hits
    assert trust.further_down(asked, result, dates.data, lambda: orbit) is result


def test_a_first_hit_holding_the_date_is_not_looked_for_further_down(dates):
    asked, result, _ = _found(dates, "When did Harbor Kite open its electric ferry line?", "ferry_id.txt")

    def deeper():
        raise AssertionError("searched further down")

    assert trust.further_down(asked, result, dates.data, deeper) is result


FARES = {
    "kite_en.txt": (
        "Harbor Kite opens an electric ferry line across the fjord\n\n"
        "Harbor Kite's new electric ferry line crosses the fjord near Bergen. Its ferries were assembled in "
        "western Norway. Passengers praised "
        "the quiet crossings, and fishermen said the water near the piers was cleaner.\n"
    ),
    "kite_id.txt": (
        "Feri listrik Harbor Kite mulai berlayar di Bergen\n\n"
        "Penumpang feri listrik Harbor Kite membayar tarif NOK 45 per penyeberangan. Proyek itu "
        "menciptakan 80 lapangan kerja lokal di Bergen. Kapal-kapal feri itu dirakit di Pelabuhan Ågotnes.\n"
    ),
    "kite_order_en.txt": (
        "Harbor Kite's ferry order is the largest of the year\n\n"
        "Harbor Kite, at NOK 300 million, placed the largest order for electric ferries in Norway this year, "
        "shipbuilders said.\n"
    ),
}


@pytest.fixture(scope="module")
def fares(tmp_path_factory, embedder) -> Engine:
    return open_archive(tmp_path_factory, embedder, "fares", FARES)


@pytest.fixture(scope="module")
def fares_only(tmp_path_factory, embedder) -> Engine:
    """Without the order: its "Harbor Kite, at NOK 300 million" ranks first for a tariff, and a first hit
    holding a sum beside the name is taken as it stands (the judge's similarity decides)."""
    articles = {name: text for name, text in FARES.items() if name != "kite_order_en.txt"}
    return open_archive(tmp_path_factory, embedder, "fares_only", articles)


@pytest.mark.parametrize(
    ("question", "short"),
    [
        # the whole sum: what it is per, too (questions.whole_answer)
        ("What ticket tariff does Harbor Kite charge on its electric ferry?", "NOK 45 per penyeberangan"),
        ("¿Qué tarifa cobra Harbor Kite en su ferri eléctrico?", "NOK 45 per penyeberangan"),
        ("How many local jobs did the Harbor Kite ferry line create?", "80"),
        # a place of the kind asked ("which port"), not "Norway": named with the kind's word in its language
        ("At which port were the Harbor Kite electric ferries assembled?", "Pelabuhan Ågotnes"),
    ],
)
def test_an_answer_beside_the_words_asked_in_another_language_goes_first(fares_only, question, short):
    asked, result, deeper = _found(fares_only, question, "kite_en.txt")
    assert not trust.judge(asked, result, fares_only.data, fares_only.min_relevance).covered
    moved = trust.further_down(asked, result, fares_only.data, deeper)
    assert fares_only.data.passages[moved.hits[0].index].source == "kite_id.txt"
    answer = fares_only.ask(question)
    assert answer.answered and answer.short.startswith(short)


def test_a_sum_beside_the_name_but_not_the_words_asked_stays_below(fares):
    """ "Harbor Kite, at NOK 300 million": a plain answer beside the name, the cost of an order, not a tariff."""
    question = "What ticket tariff does Harbor Kite charge on its electric ferry?"
    asked, result, deeper = _found(fares, question, "kite_en.txt")
    order = replace(
        deeper(), hits=tuple(h for h in deeper().hits if fares.data.passages[h.index].source == "kite_order_en.txt")
    )
    hit = order.hits[0]
    assert trust.plain_answer(asked, fares.data.passages[hit.index].text, hit.highlight)
    assert trust.further_down(asked, result, fares.data, lambda: order) is result


def test_a_name_is_found_as_a_whole_word_or_a_long_one_in_another_form():
    assert trust._named_in("Chilean", "Ventos gana la subasta chilena")  # a long name: its stem
    assert trust._named_in("AI", "the Meta AI lab")
    assert not trust._named_in("AI", "the company said")  # never inside another word
    assert not trust._named_in("Kite", "the kitesurfers")


CHIEF = {
    "chief_en.txt": (
        "Harbor Kite names Marta Lindqvist chief executive\n\n"
        "Harbor Kite has named Marta Lindqvist as its new chief executive. Lindqvist joins from a shipping "
        "company in Oslo and will start in May. The board said she would lead the ferry line's expansion to "
        "Stavanger.\n"
    ),
    "chief_id.txt": (
        "Harbor Kite tunjuk kepala eksekutif baru\n\n"
        "Kepala eksekutif baru perusahaan feri itu, Lindqvist, membawa pengalaman lebih dari 15 tahun di industri "
        "pelayaran. Ia akan mulai bekerja pada bulan Mei.\n"
    ),
}


@pytest.fixture(scope="module")
def chief(tmp_path_factory, embedder) -> Engine:
    return open_archive(tmp_path_factory, embedder, "chief", CHIEF)


def test_a_count_in_the_unit_asked_goes_first_from_another_language(chief):
    """ "15 tahun" counts the years asked, though "tahun" is not spelled like "years", and "Lindqvist"
    names Marta Lindqvist as `mentions_subject` reads a name."""
    question = "How many years of experience does Marta Lindqvist have?"
    asked, result, deeper = _found(chief, question, "chief_en.txt")
    moved = trust.further_down(asked, result, chief.data, deeper)
    assert chief.data.passages[moved.hits[0].index].source == "chief_id.txt"
    answer = chief.ask(question)
    assert answer.answered and answer.short == "15 tahun"


def test_a_count_in_another_unit_is_not_taken_from_further_down(chief):
    asked, result, deeper = _found(chief, "How many months of experience does Marta Lindqvist have?", "chief_en.txt")
    assert trust.further_down(asked, result, chief.data, deeper) is result


def test_a_name_of_the_question_is_found_whole_or_by_a_part_standing_alone():
    asked = questions.analyze("How many years of experience does Marta Lindqvist have?")
    assert trust._names_each(asked, "Harbor Kite tunjuk CEO", "Lindqvist membawa pengalaman")
    assert trust._names_each(asked, "Marta", "Lindqvist")  # each word somewhere
    assert not trust._names_each(asked, "Harbor Kite tunjuk CEO", "Marta Olsen membawa pengalaman")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Marta Lindqvist said the ferries would run as planned, as they did for us in Bergen.", False),
        ("Marta Lindqvist put the cost at US$40 million.", False),  # a currency, not the place
        ("Marta Lindqvist said the states of the united fleet were good.", False),  # its words apart
        ("Marta Lindqvist will sell ferries in the U.S. next year.", True),
        ("Marta Lindqvist akan menjual feri di AS tahun depan.", True),
        ("Marta Lindqvist venderá transbordadores en Estados Unidos.", True),
    ],
)
def test_a_place_of_the_question_is_named_whole_and_its_initials_in_capitals(text, named):
    """ "United States" is named by "U.S.", "AS" or "Estados Unidos", not by the words "us" or "as"."""
    asked = questions.analyze("What did Marta Lindqvist say about ferries in the United States?")
    assert trust._names_each(asked, text) is named


def test_names_the_text_writes_need_no_table_of_places():
    """The place names (CLDR through babel, 0.1–0.2 s to load) are read only for a name the text does not
    write as a name: a cold `newsbot ask` of a why-question about names the article has does not load them."""
    asked = questions.analyze("Why did Harbor Kite leave Tromsø?")
    places._table.cache_clear()
    assert trust._names_each(asked, "Harbor Kite closed its Tromsø line in May.")
    assert places._table.cache_info().currsize == 0
    assert not trust._names_each(asked, "Harbor Kite closed its Bergen line in May.")  # Tromsø: then read


WHY = {
    "kite_why_en.txt": (
        "Harbor Kite picks electric ferries for Bergen\n\n"
        "Harbor Kite will run only electric ferries on its new line in Bergen, the operator said on Monday. "
        "Chief executive Marta Lindqvist joined the company from a shipping firm in Oslo last year.\n\n"
        "The line will link six villages on both sides of the fjord with the city centre. Timetables will be "
        "published in May, and tickets will be sold on board and through an app. The ferries were built at a "
        "yard in western Norway and delivered in the spring.\n\n"
        "The choice was made because charging at the piers costs less than diesel, and the towns along the "
        "fjord asked for quieter boats. The line opens in June with four ferries, each carrying 300 people "
        "across the water in twenty minutes.\n"
    ),
    "tromso_en.txt": (
        "Tromsø harbour gets a new pier\n\n"
        "The city of Tromsø opened a new pier for fishing boats on Friday. The pier cost NOK 40 million and "
        "took two years to build.\n"
    ),
}


@pytest.fixture(scope="module")
def why(tmp_path_factory, embedder) -> Engine:
    return open_archive(tmp_path_factory, embedder, "why", WHY)


def _first(engine: Engine, question: str):
    asked = questions.analyze(question)
    return asked, search(engine.data, engine.embedder.query(question), question, 3).hits[0]


@pytest.mark.parametrize(
    "question",
    [
        "Why did Harbor Kite leave Tromsø?",
        "¿Por qué cerró Harbor Kite su línea en Tromsø?",
        "Mengapa Harbor Kite keluar dari Tromsø?",
    ],
)
def test_a_why_question_naming_what_the_article_never_names_is_declined(why, question):
    """The archive knows Tromsø (another article), so no term is unknown; the article that gives Harbor
    Kite's reasons never names it: its reasons are for something else. (Names joined by "de" are read as
    one name, as "Costa da Morte" is: "¿Por qué se fue Harbor Kite de Tromsø?" is not declined.)"""
    asked, hit = _first(why, question)
    assert not trust.unknown_terms(asked, why.data)
    assert why.data.passages[hit.index].source == "kite_why_en.txt"
    assert trust._rule(asked, hit, why.data).startswith("the answering passage does not name every one of")


def test_a_why_question_is_answered_from_an_article_naming_each_of_its_names(why):
    """The reason's passage does not name Marta Lindqvist; the article it comes from does."""
    asked, hit = _first(why, "Why did Marta Lindqvist's company choose electric ferries in Bergen?")
    passage = why.data.passages[hit.index]
    assert "because" in passage.text[slice(*hit.highlight)] and "Lindqvist" not in passage.text
    assert trust._rule(asked, hit, why.data) == ""


@pytest.mark.parametrize(
    "question",
    [
        "Why did the president of Harbor Kite resign?",
        "Mengapa presiden Harbor Kite mengundurkan diri?",
        "¿Por qué dimitió el presidente de Harbor Kite?",
    ],
)
def test_a_why_question_about_a_relation_the_article_never_states_is_declined(why, question):
    asked, hit = _first(why, question)
    assert why.data.passages[hit.index].source == "kite_why_en.txt"
    assert trust._rule(asked, hit, why.data) == "the answering article does not state the president"


def test_a_why_question_about_a_relation_the_article_states_passes(why):
    asked, hit = _first(why, "Why did Harbor Kite's chief executive choose electric ferries for Bergen?")
    assert questions.named_relations(asked) == ("ceo",) and not questions.relations(asked)
    assert trust._rule(asked, hit, why.data) == ""


@pytest.mark.parametrize(
    "question",
    [
        "What did Marta Lindqvist say about Tromsø?",
        "Apa kata Harbor Kite tentang Tromsø?",
        "Did Harbor Kite open a ferry line in Tromsø?",
    ],
)
def test_an_open_question_naming_what_the_article_never_names_is_declined(why, question):
    """No kind of answer to look for (what-is, yes/no): the names are all there is to check."""
    asked, hit = _first(why, question)
    assert questions.answer_kind(asked) is None
    assert why.data.passages[hit.index].source == "kite_why_en.txt"
    assert trust._rule(asked, hit, why.data).startswith("the answering passage does not name every one of")


def test_an_open_question_about_the_article_passes(why):
    asked, hit = _first(why, "What did Marta Lindqvist's company say about charging at the piers?")
    assert trust._rule(asked, hit, why.data) == ""
