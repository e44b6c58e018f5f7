"""The sentence that answers, the short answer and no filler, on articles written for these tests.

English, Indonesian and Spanish articles; the questions ask across languages. `compose` is
called with threshold 0 (every later passage relevant enough), so what decides is the rule
under test: whether a passage answers, and whether it adds anything.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.retrieval.answering import FOLLOWER_RELEVANCE, compose
from bot.retrieval.engine import Engine
from bot.retrieval.questions import analyze
from bot.retrieval.search import Result, SearchParams, search
from tests.conftest import make_settings

ARTICLES = {
    "wind_en.txt": (
        "Nordvik Power Plans An Offshore Wind Farm Off Bergen\n\n"
        "Nordvik Power will build an offshore wind farm off the coast of Bergen, the Norwegian company "
        "said on Monday. The project is the largest wind investment in the country's history and will "
        "supply power to the mainland grid. The farm will cost NOK 9.5 billion and have 64 turbines. "
        "Chief executive Sigrid Haugen said construction would start in March 2027.\n"
    ),
    "wind_id.txt": (
        "Dokumen Izin: Ladang Angin Bergen Akan Memakai 70 Turbin\n\n"
        "Ladang angin lepas pantai yang direncanakan di dekat Bergen akan memakai 70 turbin, menurut "
        "dokumen perizinan yang diajukan ke pemerintah daerah pekan ini. Pemerintah daerah masih meninjau "
        "dampaknya terhadap nelayan setempat sebelum memberi izin.\n"
    ),
    "solar_es.txt": (
        "Solaria Andina Abrirá Una Fábrica De Paneles En Arequipa\n\n"
        "La empresa Solaria Andina abrirá una fábrica de paneles solares en Arequipa, en el sur del país. "
        "La planta empleará a 2.500 trabajadores y comenzará a producir el 10 de septiembre de 2026, "
        "según su director general, Tomás Quispe.\n"
    ),
    "kopi_id.txt": (
        "Kopi Gunung Membuka Pabrik Sangrai di Malang\n\n"
        "PT Kopi Gunung membuka pabrik sangrai baru di Malang pada Selasa. Direktur utama perusahaan, "
        "Wulan Sari yang berusia 41 tahun, mengatakan pabrik itu mengolah 300 ton kopi setiap bulan.\n"
    ),
}
TURBINES = "How many turbines will the Nordvik wind farm off Bergen have?"


def open_articles(tmp_path_factory, embedder, name: str, articles: dict[str, str]) -> Engine:
    tmp = tmp_path_factory.mktemp(name)
    (tmp / "seeds").mkdir()
    for file, text in articles.items():
        (tmp / "seeds" / file).write_text(text, encoding="utf-8")
    return Engine.open(make_settings(tmp), embedder=embedder)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, embedder):
    return open_articles(tmp_path_factory, embedder, "tiny-answering", ARTICLES)


def answer(engine: Engine, embedder, question: str, params: SearchParams = SearchParams()):
    result = search(engine.data, embedder.query(question), question, 3, params)
    return result, compose(analyze(question), result, engine.data)


def highlight(engine: Engine, hit) -> str:
    return engine.data.passages[hit.index].text[slice(*hit.highlight)]


def test_the_figure_sentence_is_highlighted_though_a_neighbour_is_more_similar(tiny, embedder):
    result = search(tiny.data, embedder.query(TURBINES), TURBINES, 3)
    best = next(h for h in result.hits if tiny.data.passages[h.index].source == "wind_en.txt")
    assert "64 turbines" in highlight(tiny, best)
    # similarity alone picks the sentence that restates the question
    alone = search(tiny.data, embedder.query(TURBINES), TURBINES, 3, SearchParams(answer_weight=0.0))
    same = next(h for h in alone.hits if h.index == best.index)
    assert "64 turbines" not in highlight(tiny, same)


def test_the_short_answer_is_a_verbatim_span_of_the_first_highlight(tiny, embedder):
    for question, expected in (
        ("How much will the Nordvik wind farm cost?", "NOK 9.5 billion"),
        ("How many workers will the Solaria Andina factory employ?", "2.500 trabajadores"),
        ("When will the Arequipa factory start producing?", "10 de septiembre de 2026"),
        ("¿Cuándo comenzará a producir la fábrica de Solaria Andina?", "10 de septiembre de 2026"),
        ("Siapa direktur utama PT Kopi Gunung?", "Wulan Sari"),
        ("How old is Wulan Sari?", "41 tahun"),
    ):
        _, composed = answer(tiny, embedder, question)
        assert composed.short == expected, question
        assert composed.short in composed.citations[0].highlight


def test_a_one_fact_question_gets_one_citation(tiny, embedder):
    question = "How much will the Nordvik wind farm cost?"
    result, composed = answer(tiny, embedder, question)
    assert len(result.hits) == 3  # the old rule would have quoted all three at this threshold
    assert composed.short == "NOK 9.5 billion"
    assert [c.source for c in composed.citations] == ["wind_en.txt"]


def test_two_sources_with_two_different_figures_are_both_shown(tiny, embedder):
    _, composed = answer(tiny, embedder, TURBINES)
    by_source = {c.source: c.highlight for c in composed.citations}
    assert set(by_source) == {"wind_en.txt", "wind_id.txt"}
    assert "64 turbines" in by_source["wind_en.txt"] and "70 turbin" in by_source["wind_id.txt"]
    assert composed.short == "64 turbines"


def test_no_short_answer_for_questions_without_one(tiny, embedder):
    _, composed = answer(tiny, embedder, "Why is the Bergen wind farm being reviewed?")
    assert composed.short is None and composed.citations


THINGS = {
    "cable_en.txt": (
        "Repairs To The Bergen Export Cable Will Take Six Weeks\n\n"
        "Nordvik Power said on Sunday that repairs to the export cable of its wind farm off Bergen will take "
        "six weeks. The Fjordline, a vessel run by Nordsjø Marine, cut the cable with its anchor during a storm, "
        "chief executive Sigrid Haugen said.\n"
    ),
    "turbin_id.txt": (
        "Nordvik Luncurkan Turbin Angin Baru\n\n"
        "Nordvik Power meluncurkan model turbin angin Fjordwind pada Senin di Bergen. Menurut Sigrid Haugen, "
        "turbin itu akan dipasang mulai tahun depan.\n"
    ),
    "muelle_es.txt": (
        "Un Barco Choca Contra El Muelle De Tromsø\n\n"
        "Un barco chocó el viernes contra el muelle pesquero de Tromsø, según explicó Ola Berg, jefe del puerto. "
        "Nadie resultó herido.\n"
    ),
}


@pytest.fixture(scope="module")
def things(tmp_path_factory, embedder):
    return open_articles(tmp_path_factory, embedder, "things", THINGS)


@pytest.mark.parametrize(
    ("question", "short"),
    [
        ("Which vessel cut the Bergen export cable?", "Fjordline"),
        ("Kapal apa yang memutus kabel ekspor Bergen?", "Fjordline"),
        ("Which turbine model did Nordvik launch?", "Fjordwind"),
        ("Model turbin apa yang diluncurkan Nordvik?", "Fjordwind"),
    ],
)
def test_a_named_thing_asked_for_is_said_when_written_as_that_kind_of_thing(things, embedder, question, short):
    _, composed = answer(things, embedder, question)
    assert composed.short == short


def test_no_name_is_said_for_a_thing_when_none_is_written_as_one(things, embedder):
    """The sentence that answers names a person and a place, no ship: nothing is said first."""
    result, composed = answer(things, embedder, "¿Qué barco chocó contra el muelle de Tromsø?")
    assert highlight(things, result.hits[0]).startswith("Un barco chocó")
    assert composed.short is None and composed.citations


STORM = {
    "storm_en.txt": (
        "Storm Cuts The Export Cable Of Nordvik's Wind Farm Off Bergen\n\n"
        "A storm cut the export cable of Nordvik Power's wind farm off Bergen on Sunday, chief executive Sigrid "
        "Haugen told reporters in Oslo. The farm's 64 turbines stopped sending power to the mainland grid, and "
        "repairs are expected to take six weeks. Nordvik Power said its insurers had been told. The company "
        "will pay fishing crews near the farm for the weeks their boats cannot use the area, Haugen added, and "
        "its shares fell 3% in Oslo on Monday.\n\n"
        "Investigators said on Monday that the Fjordline, a vessel run by Nordsjø Marine, dragged its anchor "
        "across the seabed during the storm. The ship had been waiting for calmer weather near the farm. "
        "Nordsjø Marine said it was cooperating with the investigation and that its crew were safe.\n"
    ),
}


@pytest.fixture(scope="module")
def storm(tmp_path_factory, embedder):
    return open_articles(tmp_path_factory, embedder, "storm", STORM)


def test_a_passage_naming_the_thing_asked_is_cited_after_one_naming_only_people(storm, embedder):
    """The first passage names the company and its chief executive, no vessel: it does not answer
    "Which vessel…?", so the article's later passage that does is cited too, though less relevant."""
    question = "Which vessel cut the export cable off Bergen?"
    result, _ = answer(storm, embedder, question)
    assert "Fjordline" not in storm.data.passages[result.hits[0].index].text
    later = tuple(replace(h, relevance=max(h.relevance, FOLLOWER_RELEVANCE)) for h in result.hits[1:])
    composed = compose(analyze(question), replace(result, hits=(result.hits[0], *later)), storm.data)
    assert [c.highlight for c in composed.citations if "Fjordline, a vessel" in c.highlight]
    assert composed.short is None  # the first citation names no vessel: nothing is said first


FINANCE = {
    "cfo_id.txt": (
        "Nordvik Power Tunjuk Direktur Keuangan Baru\n\n"
        "Nordvik Power menunjuk mantan CFO Kelinci Emas Budi Santoso sebagai direktur keuangan baru "
        "perusahaan, menurut pengumuman di Oslo pada Senin. Penunjukan ini dilakukan saat perusahaan "
        "menyiapkan pendanaan untuk ladang angin lepas pantai di dekat Bergen yang bernilai sekitar NOK 9,5 "
        "miliar. Dewan direksi menyebut pengalamannya mengelola utang dan obligasi sebagai alasan utama. Ia "
        "mulai bekerja pada bulan April dan akan berkantor di Oslo bersama tim keuangan yang baru dibentuk.\n\n"
        "Sebelumnya ia bekerja selama sembilan tahun di Kelinci Emas, produsen makanan ringan yang berbasis di "
        "Bandung. Di sana ia memimpin penerbitan obligasi pertama perusahaan pada tahun 2019.\n"
    ),
}


@pytest.fixture(scope="module")
def finance(tmp_path_factory, embedder):
    return open_articles(tmp_path_factory, embedder, "finance", FINANCE)


def test_the_article_tells_an_organisation_before_a_person_apart(finance, embedder):
    """ "mantan CFO Kelinci Emas Budi Santoso": the passage never writes Kelinci Emas alone, the
    article's next passage does, so the short answer is the person, not the three names as one."""
    result, composed = answer(finance, embedder, "Siapa direktur keuangan baru Nordvik Power?")
    first = finance.data.passages[result.hits[0].index].text
    assert "Kelinci Emas Budi Santoso" in first and first.count("Kelinci Emas") == 1
    assert composed.short == "Budi Santoso"


CHIEFS = {
    "nordvik_en.txt": (
        "Nordvik Power Names A New Chief Executive\n\n"
        "Nordvik Power named Sigrid Haugen chief executive on Monday. She joins from a shipping company in Oslo "
        "and starts in April.\n"
    ),
    "sorvik_id.txt": (
        "Sørvik Power Bangun Ladang Angin di Stavanger\n\n"
        "Direktur utama Sørvik Power, Lars Berg, mengatakan perusahaan akan membangun ladang angin di Stavanger "
        "tahun depan.\n"
    ),
}


@pytest.fixture(scope="module")
def chiefs(tmp_path_factory, embedder):
    tmp = tmp_path_factory.mktemp("chiefs")
    (tmp / "seeds").mkdir()
    for name, text in {**ARTICLES, **CHIEFS}.items():
        (tmp / "seeds" / name).write_text(text, encoding="utf-8")
    return Engine.open(make_settings(tmp), embedder=embedder)


@pytest.mark.parametrize("question", ["Who is the chief executive of Nordvik Power?", "Siapa CEO Nordvik Power?"])
def test_a_later_passage_about_a_name_that_only_shares_a_word_is_not_cited(chiefs, embedder, question):
    """ "Sørvik Power" shares "Power" with the company asked about: its chief is not an answer."""
    result, composed = answer(chiefs, embedder, question)
    other = [h for h in result.hits if chiefs.data.passages[h.index].source == "sorvik_id.txt"]
    assert other and other[0].relevance >= FOLLOWER_RELEVANCE  # relevant enough to be shown, but for the rule
    assert composed.short == "Sigrid Haugen"
    assert [c.source for c in composed.citations] == ["nordvik_en.txt"]


HEADQUARTERS = {
    "sede_es.txt": (
        "Ventisca Energía gana una subasta en Perú\n\n"
        "El consejero delegado de Ventisca Energía, Lucía Ferrer, viajó a Lima para la firma. Ferrer recordó que "
        "la compañía, con sede en Valencia, lleva ocho años en Perú y opera tres parques solares en el país.\n"
    ),
    "hq_en.txt": (
        "Tidewater Grid wins a contract in Morocco\n\n"
        "Tidewater Grid's chief executive, Ana Costa, flew to Rabat for the signing. Costa said the company, "
        "headquartered in Porto, has worked in North Africa for six years.\n"
    ),
    "hq_id.txt": (
        "Nusa Surya menang tender di Filipina\n\n"
        "Direktur utama Nusa Surya, Dewi Lestari, terbang ke Manila untuk penandatanganan. Dewi mengatakan "
        "perusahaan yang berkantor pusat di Surabaya itu sudah enam tahun bekerja di Filipina.\n"
    ),
}


@pytest.fixture(scope="module")
def headquarters(tmp_path_factory, embedder):
    return open_articles(tmp_path_factory, embedder, "headquarters", HEADQUARTERS)


@pytest.mark.parametrize(
    ("question", "place"),
    [
        ("¿Dónde tiene su sede Ventisca Energía?", "Valencia"),
        ("Where is Tidewater Grid headquartered?", "Porto"),
        ("Di mana kantor pusat Nusa Surya?", "Surabaya"),
    ],
)
def test_the_sentence_stating_the_headquarters_is_highlighted_over_one_naming_the_company(
    headquarters, embedder, question, place
):
    """The sentence naming the company and a city it flew to is the more similar; the one that says
    where it is based answers."""
    result, composed = answer(headquarters, embedder, question)
    assert place in highlight(headquarters, result.hits[0])
    assert composed.short == place


RETOLD = {
    "stake_en.txt": (
        "Nordvik Power reports a strong quarter\n\n"
        "Nordvik Power's profit rose in the second quarter as its wind farms produced more power. "
        "Earlier this year Nordvik bought a 30% stake in the Kvalsund floating wind farm from Brisa Energía.\n"
    ),
    "stake_es.txt": (
        "Nordvik Power compra el 30% de Kvalsund\n\n"
        "La noruega Nordvik Power ha comprado el 30% del parque flotante Kvalsund a Brisa Energía por 80 millones "
        "de euros, según un comunicado.\n"
    ),
    "bakery_en.txt": (
        "Pelican Foods opens bakeries\n\n"
        "Pelican Foods opened 12 bakeries in Leeds this month, and the chain plans more shops in the north.\n"
    ),
}


@pytest.fixture(scope="module")
def retold(tmp_path_factory, embedder):
    return open_articles(tmp_path_factory, embedder, "retold", RETOLD)


@pytest.mark.parametrize(
    "question",
    [
        "How much did Nordvik Power pay for its stake in the Kvalsund floating wind farm?",
        "Berapa Nordvik Power membayar saham di ladang angin Kvalsund?",
    ],
)
def test_of_two_passages_telling_one_fact_the_one_that_answers_is_kept(retold, embedder, question):
    """The English passage tells the purchase without a price, the Spanish one with it; they are one
    fact (same names and figure), so one is folded into the other: not the one holding the price."""
    result, composed = answer(retold, embedder, question)
    sources = [retold.data.passages[h.index].source for h in result.hits]
    assert "stake_es.txt" in sources
    assert composed.short == "80 millones de euros"
    folded = search(retold.data, embedder.query(question), question, 3, SearchParams(answer_weight=0.0))
    assert "stake_es.txt" not in [retold.data.passages[h.index].source for h in folded.hits]


@pytest.mark.parametrize(
    ("question", "sentence", "place"),
    [
        (
            "Where is the Ridgeback Solar project?",
            "Ridgeback Solar, in the Atacama region, is the company's largest project outside Spain.",
            "Atacama",
        ),
        (
            "¿Dónde está la planta Sierra Alta?",
            "La planta Sierra Alta, en la Patagonia, vende su energía desde 2024 en Chile.",
            "Patagonia",
        ),
    ],
)
def test_a_place_after_a_preposition_and_an_article_answers_where(question, sentence, place):
    from bot.retrieval.questions import answer_span

    assert answer_span(sentence, analyze(question), sentence).text == place


REASONS = {
    "depot_en.txt": (
        "Harlow Rail Closes Its Glasgow Depot\n\n"
        "Harlow Rail will close its train depot in Glasgow next spring, the rail operator said on Tuesday. "
        "The depot has serviced the company's trains since 1998 and employs 140 people. Harlow Rail said it was "
        "shutting the site because its new electric trains need longer sheds than the old building can hold. "
        "The staff will be offered jobs at its Motherwell works.\n"
    ),
    "depot_staff_en.txt": (
        "Harlow Rail tells staff the Glasgow depot will close\n\n"
        "Harlow Rail will close its Glasgow depot next spring, managers told staff on Friday. Workers heard the "
        "news at a meeting before the morning shift.\n"
    ),
    "teh_id.txt": (
        "Teh Lestari Memindahkan Pabrik ke Garut\n\n"
        "PT Teh Lestari akan memindahkan pabrik pengolahan tehnya dari Bandung ke Garut tahun depan. Pabrik di "
        "Bandung telah beroperasi sejak 1985 dan mempekerjakan 200 orang. Direktur perusahaan mengatakan pabrik "
        "dipindahkan karena sebagian besar kebun milik perusahaan kini berada jauh di selatan. Karyawan akan "
        "ditawari pekerjaan di lokasi baru.\n"
    ),
    "vino_es.txt": (
        "Bodegas Montalto retrasa la vendimia en La Rioja\n\n"
        "Bodegas Montalto retrasará la vendimia de este año en La Rioja hasta octubre, anunció la empresa el "
        "lunes. La bodega produce cuatro millones de botellas al año. Según su enóloga, el retraso de la vendimia "
        "se debe a que las lluvias de septiembre dejaron la uva con poco azúcar. La empresa contratará a 300 "
        "temporeros.\n"
    ),
}


@pytest.fixture(scope="module")
def reasons(tmp_path_factory, embedder):
    return open_articles(tmp_path_factory, embedder, "reasons", REASONS)


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("Why is Harlow Rail closing its Glasgow depot?", "because its new electric trains"),
        ("Mengapa PT Teh Lestari memindahkan pabriknya ke Garut?", "karena sebagian besar kebun"),
        ("¿Por qué retrasará Bodegas Montalto la vendimia?", "se debe a que las lluvias"),
        ("Why is Bodegas Montalto delaying the harvest?", "se debe a que las lluvias"),
    ],
)
def test_the_sentence_giving_a_reason_is_highlighted_for_a_why_question(reasons, embedder, question, reason):
    """The sentence restating the question's words is the more similar; the one giving a cause answers.
    (One that only refers back to the event, "langkah itu diambil karena…", still loses to it.)"""
    assert analyze(question).kind == "why"
    result = search(reasons.data, embedder.query(question), question, 3)
    assert reason in highlight(reasons, result.hits[0])
    alone = search(reasons.data, embedder.query(question), question, 3, SearchParams(answer_weight=0.0))
    assert reason not in highlight(reasons, alone.hits[0])


def test_a_passage_giving_the_reason_ranks_above_one_that_only_retells_the_news(reasons, embedder):
    """Both tell that the depot closes (folding would keep only one: it is off here, so both rank)."""
    question = "Why is Harlow Rail closing its Glasgow depot?"
    unfolded = SearchParams(fold_same_facts=False)
    alone = search(reasons.data, embedder.query(question), question, 2, replace(unfolded, answer_weight=0.0))
    assert reasons.data.passages[alone.hits[0].index].source == "depot_staff_en.txt"  # the closer words
    result = search(reasons.data, embedder.query(question), question, 2, unfolded)
    assert [reasons.data.passages[h.index].source for h in result.hits] == ["depot_en.txt", "depot_staff_en.txt"]


def _hits_by_source(engine: Engine, embedder, question: str) -> dict:
    result = search(engine.data, embedder.query(question), question, len(engine.data.passages))
    return {engine.data.passages[h.index].source: h for h in result.hits}


def test_a_spare_hit_is_cited_after_the_first_in_place_of_one_that_cannot_be(tiny, embedder):
    """The hits after the first answer with a count but do not name the wind farm (made as relevant
    as a follower needs to be: in this small archive they are not); the spare one does."""
    by = _hits_by_source(tiny, embedder, TURBINES)
    elsewhere = [replace(by[s], relevance=FOLLOWER_RELEVANCE) for s in ("solar_es.txt", "kopi_id.txt")]
    shown = (by["wind_en.txt"], *elsewhere)
    without = compose(analyze(TURBINES), Result(shown, 0.1), tiny.data)
    assert [c.source for c in without.citations] == ["wind_en.txt"]
    with_spare = compose(analyze(TURBINES), Result(shown, 0.1), tiny.data, lambda: (by["wind_id.txt"],))
    assert [c.source for c in with_spare.citations] == ["wind_en.txt", "wind_id.txt"]
    assert with_spare.short == without.short == "64 turbines"  # the first citation still answers


def test_a_spare_hit_is_not_looked_at_when_the_hits_are_about_the_subject(tiny, embedder):
    """The second hit names the wind farm and adds nothing (the same answer, the same article): no
    place is freed, so one-fact questions keep one citation."""
    by = _hits_by_source(tiny, embedder, TURBINES)
    same = (by["wind_en.txt"], by["wind_en.txt"])
    composed = compose(analyze(TURBINES), Result(same, 0.1), tiny.data, lambda: (by["wind_id.txt"],))
    assert [c.source for c in composed.citations] == ["wind_en.txt"]


def test_spare_hits_never_make_more_citations_than_hits(tiny, embedder):
    by = _hits_by_source(tiny, embedder, TURBINES)
    composed = compose(analyze(TURBINES), Result((by["wind_en.txt"],), 0.1), tiny.data, lambda: (by["wind_id.txt"],))
    assert [c.source for c in composed.citations] == ["wind_en.txt"]


@pytest.mark.parametrize(
    "question", [TURBINES, "Why is Nordvik Power building a wind farm?", "Siapa direktur PT Kopi Gunung?"]
)
def test_spare_hits_come_after_the_same_hits_and_replace_none(tiny, embedder, question):
    vector = embedder.query(question)
    plain = search(tiny.data, vector, question, 2)
    wider = search(tiny.data, vector, question, 2, spare=2)
    assert wider.hits == plain.hits
    assert 1 <= len(wider.spare) <= 2 and not {h.index for h in wider.spare} & {h.index for h in wider.hits}


def test_the_wider_search_runs_only_when_a_hit_is_about_something_else(tiny, embedder):
    by = _hits_by_source(tiny, embedder, TURBINES)
    elsewhere = replace(by["solar_es.txt"], relevance=FOLLOWER_RELEVANCE)
    asked = []

    def wider():
        asked.append(True)
        return (by["wind_id.txt"],)

    composed = compose(analyze(TURBINES), Result((by["wind_en.txt"], elsewhere), 0.1), tiny.data, wider)
    assert [c.source for c in composed.citations] == ["wind_en.txt", "wind_id.txt"] and asked == [True]

    def never():
        raise AssertionError("searched again")

    composed = compose(analyze(TURBINES), Result((by["wind_en.txt"], by["wind_en.txt"]), 0.1), tiny.data, never)
    assert [c.source for c in composed.citations] == ["wind_en.txt"]
