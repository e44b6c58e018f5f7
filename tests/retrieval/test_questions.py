"""Question analysis on questions written for these tests (not the development sets), English and Indonesian."""

import re

import pytest

from bot.retrieval import questions
from bot.retrieval.questions import _RATE_ASKED, analyze, kind, language, mentions_subject, names


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who founded Volcano Robotics?", "who"),
        ("Siapa pendiri Kelinci Emas?", "who"),
        ("When did the Oslo lab open?", "when"),
        ("What year was the port built?", "when"),
        ("Kapan pabrik itu dibuka?", "when"),
        ("Pada tahun berapa pelabuhan dibangun?", "when"),  # a date, though "berapa" also asks amounts
        ("Where is the new lab?", "where"),
        ("Di mana pabrik baru itu?", "where"),
        ("How many engineers work in Oslo?", "how_many"),
        ("How old is the founder?", "how_many"),
        ("Berapa banyak insinyur di Oslo?", "how_many"),
        ("Berapa usia pendirinya?", "how_many"),
        ("How much did Nusantara pay?", "how_much"),
        ("Berapa nilai kesepakatan itu?", "how_much"),
        ("Why did the lab move?", "why"),
        ("Mengapa laboratorium itu pindah?", "why"),
        ("What was the reason for the delay?", "why"),
        ("Apa alasan perusahaan menutup pabrik?", "why"),
        ("¿Por qué cerró la fábrica de Vigo?", "why"),
        ("¿Cuál fue el motivo del retraso?", "why"),
        ("Did Volcano Robotics raise money?", "yes_no"),
        ("Apakah Budi Santoso menjual sahamnya?", "yes_no"),
        ("What does the lab build?", "what"),
        ("Apa yang dibangun laboratorium itu?", "what"),
    ],
)
def test_kind(question, expected):
    assert kind(question) == expected


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("What does the lab build?", "en"),
        ("Who is the CEO of Kelinci Emas?", "en"),
        ("Siapa CEO Volcano Robotics?", "id"),  # names in English, question in Indonesian
        ("Berapa harga saham Nusantara hari ini?", "id"),
        ("Apa itu Kelinci Emas?", "id"),
        ("Volcano Robotics?", "en"),  # nothing to tell: English
    ],
)
def test_language_follows_the_question_words(question, lang):
    assert language(question) == lang


def test_names_keep_brands_and_acronyms_and_drop_question_words():
    assert names("Who is Nusantara's new CTO?") == ("Nusantara", "CTO")
    assert names("Siapa CEO Volcano Robotics?") == ("CEO", "Volcano", "Robotics")
    assert names("Does eBay sell the iPhone in Oslo?") == ("eBay", "iPhone", "Oslo")
    assert names("how many GPUs does Meta buy?") == ("GPUs", "Meta")
    assert names("Meta bought what?") == ("Meta",)  # a name as the first word stays
    # Spanish question words open a question as "Who" does: they name nothing
    assert names("¿Cuánto costó el puerto de Ferrol?") == ("Ferrol",)
    assert names("¿Quién dirige Volcano Robotics?") == ("Volcano", "Robotics")
    assert names("Cuándo abrió Nordvik su fábrica?") == ("Nordvik",)
    # so do the prepositions a question may open with: "At" is not a name of what it asks about
    assert names("At which port will Nordvik assemble the turbines?") == ("Nordvik",)
    assert names("Di pelabuhan mana Nordvik merakit turbin?") == ("Nordvik",)
    assert names("Produk Nordvik apa yang paling laris?") == ("Nordvik",)  # the kind of thing asked, not a name
    assert names("Bank mana yang memberi pinjaman?") == ()
    assert names("Nordvik membangun apa?") == ("Nordvik",)
    assert names("¿En qué puerto ensambla Nordvik las turbinas?") == ("Nordvik",)


def test_analyze_collects_figures_and_terms():
    q = analyze("Berapa banyak GPU yang dibeli Meta pada 2025 senilai $1,3 miliar?")
    assert q.lang == "id" and q.kind == "how_many" and q.wants_figure
    assert q.numbers == ("2025", "1,3")
    assert "gpu" in q.terms and "yang" not in q.terms


# --- the short answer's kind, and its spans in a sentence (English, Indonesian, Spanish) ---

from bot.retrieval.questions import answer_kind, answer_span, answer_spans, typed_spans  # noqa: E402


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who founded Volcano Robotics?", "who"),
        ("Which companies did Budi Santoso work for?", "who"),
        ("Di perusahaan mana Budi bekerja?", "who"),
        ("¿Quién dirige Kelinci Emas?", "who"),
        ("Kapan pabrik itu dibuka?", "when"),
        ("¿Cuándo abrirá la planta?", "when"),
        ("Di negara mana pabrik itu dibangun?", "where"),
        ("¿Dónde se ensamblarán las turbinas?", "where"),
        ("How long did Budi work in Oslo?", "how_many"),
        ("¿Cuántos empleos creará la fábrica?", "how_many"),
        ("What share of drivers use the app?", "how_much"),
        ("¿Cuánto costará el puente?", "how_much"),
        ("¿Qué precio ofreció la empresa?", "how_much"),
        ("¿Cuál es la inversión total del puerto?", "how_much"),
        ("What investment did the port need?", "how_much"),
        ("What was Nordvik Power's revenue in the third quarter?", "how_much"),  # a possessive between
        ("What is the yearly output capacity of the Tromsø plant?", "how_much"),  # four words between
        ("What is the Tanjung Sari contract worth?", "how_much"),
        ("How large was Nordvik's net loss?", "how_much"),
        ("How big is the Bergen warehouse?", "how_much"),
        ("What is the name of the Nordvik plant?", "who"),  # a name answers
        ("What's the name of the Nordvik plant?", "who"),
        ("¿Cómo se llama el buque que cortó el cable?", "who"),
        ("Which vessel cut the Bergen cable?", "who"),
        ("Kapal apa yang memutus kabel itu?", "who"),
        ("Model Nordvik apa yang belum dirilis?", "who"),
        ("¿Qué modelo lanzó Nordvik?", "who"),
        ("What is the price of the Fjord model?", "how_much"),
        ("What new title did Budi Santoso take?", None),  # a job's title, not a name
        ("What did Dana Olsen say about the plan?", None),  # "Dana" is a name, not "dana" (funds)
        ("What does the company make?", None),  # the company is the subject: something else is asked
        ("What will the firm build in Batam?", None),
        ("What did the city announce?", None),
        ("What is Nordvik worried about?", None),
        ("Which Danish shipping company bought the ferry?", "who"),
        ("Which new firms joined?", "who"),
        ("Why did the lab move?", None),
        ("Did Volcano Robotics raise money?", None),
        ("What does the lab build?", None),
    ],
)
def test_answer_kind(question, expected):
    assert answer_kind(analyze(question)) == expected


@pytest.mark.parametrize(
    ("sentence", "dates"),
    [
        ("Video itu diunggah pada 17 Desember 2025 di X.", ["17 Desember 2025"]),
        ("Las cofradías se reunirán el 10 de septiembre en Malpica.", ["10 de septiembre"]),
        ("The deal was signed on June 13, 2025, in Oslo.", ["June 13, 2025"]),
        ("Investasi berjalan hingga akhir 2028, kata Budi.", ["akhir 2028"]),
        ("Pabrik beroperasi pada kuartal ketiga 2026.", ["kuartal ketiga 2026"]),
        ("Budi became CEO earlier this week.", ["earlier this week"]),
        ("The Llama 4 model has 400 layers.", []),
    ],
)
def test_dates_in_three_languages(sentence, dates):
    assert [s.text for s in typed_spans(sentence, "when")] == dates


@pytest.mark.parametrize(
    ("sentence", "figures"),
    [
        ("Meta akan memasang lebih dari 1,3 juta GPU hingga akhir tahun.", ["1,3 juta GPU"]),
        ("Meta membayar $14,8 miliar untuk 49% saham.", ["$14,8 miliar", "49%"]),
        ("Mistral menginvestasikan €450 juta di Paris.", ["€450 juta"]),
        ("La planta empleará a 2.500 trabajadores.", ["2.500 trabajadores"]),
        ("Halvorsen pagó 95 millones de euros.", ["95 millones de euros"]),
        ("Net loss was NOK 1.2 billion in 2025.", ["NOK 1.2 billion"]),  # the year is a date
        ("Pengeluaran naik hampir dua kali lipat.", ["dua kali lipat"]),
        ("Llama 4 dirilis pada 13 Juni.", []),  # a version and the day of a date are no amounts
    ],
)
def test_figures_in_three_languages(sentence, figures):
    assert [s.text for s in typed_spans(sentence, "how_much")] == figures


def test_a_short_answer_is_a_verbatim_span_of_its_sentence():
    sentence = "Direktur utama Kopi Gunung, Wulan Sari yang berusia 41 tahun, membuka pabrik senilai Rp 2,1 triliun."
    for question, expected in (
        ("How old is Wulan Sari?", "41 tahun"),
        ("How much did the Kopi Gunung plant cost?", "Rp 2,1 triliun"),
        ("Who runs Kopi Gunung?", "Wulan Sari"),
    ):
        span = answer_span(sentence, analyze(question))
        assert span.text == expected and sentence[span.start : span.end] == span.text


def test_the_name_already_in_the_question_is_not_the_answer():
    sentence = "Budi Santoso menggantikan Rina Wijaya sebagai CEO Kelinci Emas pada Senin."
    assert answer_span(sentence, analyze("Who replaced Rina Wijaya at Kelinci Emas?")).text == "Budi Santoso"
    assert answer_span(sentence, analyze("Siapa yang digantikan Budi Santoso?")).text == "Rina Wijaya"
    # a title and the company named by the question are split off: the person remains
    sentence = "Both will report to Kelinci Emas President Dewi Lestari, the company said."
    assert answer_span(sentence, analyze("To whom will Kelinci Emas executives report?")).text == "Dewi Lestari"


def test_the_answer_nearest_to_the_question_words_wins():
    sentence = "Rencana itu mencakup pusat data 2 gigawatt dan lebih dari 1,3 juta GPU hingga akhir tahun."
    assert answer_span(sentence, analyze("How many GPUs will Meta deploy?")).text == "1,3 juta GPU"
    sentence = "La empresa, que facturó 300 millones de euros, creará 2.500 empleos en Ferrol."
    assert answer_span(sentence, analyze("¿Cuántos empleos creará la empresa?")).text == "2.500 empleos"


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        (
            "Who founded Orbit Bus?",
            "Orbit Bus hired former Lumen Rail CTO Hana Pratiwi to replace co-founder Budi Santoso, who becomes chief architect.",
        ),
        (
            "Siapa pendiri Orbit Bus?",
            "Orbit Bus mengangkat Hana Pratiwi sebagai CTO baru menggantikan pendiri Budi Santoso yang kini menjadi arsitek.",
        ),
        ("¿Quién fundó Orbit Bus?", "Orbit Bus nombró a Hana Pratiwi para sustituir al fundador Budi Santoso."),
        (
            "Who is the chief executive of Orbit Bus?",
            "Orbit Bus named Hana Pratiwi chairwoman, and chief executive Budi Santoso stays.",
        ),
        (
            "Siapa CEO Orbit Bus?",
            "Hana Pratiwi memimpin komisaris Orbit Bus, sedangkan Budi Santoso selaku CEO mengurus operasi.",
        ),
    ],
)
def test_the_name_beside_the_role_asked_answers(question, sentence):
    """The relation asked is where the sentence states it, in its own words: "co-founder", "pendiri",
    "fundador" for "founded". Nearest to the company's name is the other person."""
    assert answer_span(sentence, analyze(question)).text == "Budi Santoso"


def test_lists_of_names_are_one_answer_and_openers_are_no_names():
    sentence = "Kelinci Emas melayani klien besar seperti Grab, Gojek, dan Tokopedia."
    assert answer_span(sentence, analyze("Siapa saja klien Kelinci Emas?")).text == "Grab, Gojek, dan Tokopedia"
    sentence = "Tentu saja perusahaan itu menolak berkomentar."  # "Tentu" opens the sentence: no name
    assert answer_spans(sentence, analyze("Who refused to comment?")) == []


def test_no_short_answer_without_a_span_of_the_kind():
    sentence = "The company said the bridge would carry cyclists and buses across the river."
    assert answer_span(sentence, analyze("When will the bridge open?")) is None
    assert answer_span(sentence, analyze("How much did the bridge cost?")) is None
    assert answer_span(sentence, analyze("Why was the bridge built?")) is None  # no short answer at all


def test_an_organisation_before_a_person_after_a_title_is_a_second_name():
    # Indonesian order "CEO <company> <person>": two names, when the passage also names the company alone
    def spans(text: str, question: str) -> list[str]:
        return [s.text for s in answer_spans(text.split(". ")[0], analyze(question), text)]

    found = spans("Dewan menunjuk CEO Kelinci Emas Budi Santoso. Kelinci Emas didirikan di Bandung.", "Siapa CEO-nya?")
    assert "Budi Santoso" in found and "Kelinci Emas" in found and "Kelinci Emas Budi Santoso" not in found
    found = spans("The board thanked chief executive Nordvik Sigrid Haugen. Nordvik grew fast.", "Whom did it thank?")
    assert "Sigrid Haugen" in found and "Nordvik Sigrid Haugen" not in found
    # never split when the first words only ever open this name
    assert spans("Dewan menunjuk CEO Budi Santoso Wijaya pekan lalu.", "Siapa CEO-nya?") == ["Budi Santoso Wijaya"]


def test_an_age_question_wants_an_age_and_a_price_question_money():
    sentence = "Ketua koperasi, Bambang Sutrisno, yang berusia 58 tahun, menerima 12 kapal baru."
    assert answer_span(sentence, analyze("Berapa umurnya?")).text == "58 tahun"
    sentence = "Marsh, 41, ran 12 depots for Baltic Freight."
    assert answer_span(sentence, analyze("How old is Marsh?")).text == "41"
    assert answer_span("Marsh ran 12 depots.", analyze("How old is Marsh?")) is None
    assert answer_span("Marsh, 41, ran 12 depots.", analyze("What is Marsh's salary?")) is None
    assert answer_span("Gaji Marsh Rp 40 juta, untuk 12 depo.", analyze("Berapa gaji Marsh?")).text == "Rp 40 juta"


def test_a_count_is_not_answered_by_money_unless_the_question_counts_money():
    sentence = "Halvard Systems runs 4,000 GPUs in Tromsø and will spend $600 billion on more."
    assert answer_span(sentence, analyze("How many GPUs does Halvard run?")).text == "4,000 GPUs"
    assert answer_span("Halvard will spend $600 billion on chips.", analyze("How many GPUs does Halvard run?")) is None
    assert answer_span("Halvard akan membelanjakan Rp 9 triliun.", analyze("Berapa banyak GPU milik Halvard?")) is None
    assert answer_span("Halvard will spend $600 billion on chips.", analyze("How many dollars will Halvard spend?"))


@pytest.mark.parametrize(
    ("question", "sentence", "thing"),
    [
        (
            "Which vessel cut the Bergen cable?",
            "Sigrid Haugen said the Fjordline, a vessel run by Nordsjø, cut it.",
            "Fjordline",
        ),
        (
            "Kapal apa yang memutus kabel Bergen?",
            "Menurut Sigrid Haugen, kapal Fjordline milik Nordsjø memutusnya.",
            "Fjordline",
        ),
        ("¿Qué modelo lanzó Nordvik?", "Según Sigrid Haugen, Nordvik lanzó en mayo el modelo Fjord.", "Fjord"),
    ],
)
def test_a_named_thing_asked_for_is_the_name_written_as_that_kind_of_thing(question, sentence, thing):
    """Any name answers "Which vessel…?" in form; the one beside the kind's word ("a vessel", "kapal",
    "modelo") in any of the languages goes first, and only such a name is written as that thing."""
    asked = analyze(question)
    spans = answer_spans(sentence, asked)
    assert spans[0].text == thing
    kind = questions.thing_kind(asked)
    assert [s.text for s in spans if questions.of_thing_kind(sentence, s, kind)] == [thing]


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        (
            "Who will lead Halvard's offshore unit?",
            "Halvard Systems bought a 40% stake in Nordvik Power, and hired its chief engineer, Sigrid Haugen, "
            "to lead Halvard's new offshore unit.",
        ),
        (
            "Siapa yang akan memimpin unit lepas pantai Halvard?",
            "Halvard Systems membeli 40% saham Nordvik Power dan merekrut kepala insinyurnya, Sigrid Haugen, "
            "untuk memimpin unit lepas pantai baru Halvard.",
        ),
    ],
)
def test_a_name_between_commas_is_read_in_the_clauses_around_it(question, sentence):
    """ "…, Sigrid Haugen, to lead the unit": the apposition's own clause is the name alone; the clauses
    on both sides say what she does. A name closing a list ("OpenAI and Meta, the…") is no apposition."""
    assert answer_spans(sentence, analyze(question))[0].text == "Sigrid Haugen"
    listed = "Rivals such as Halvard and Nordvik, the report says, spend more."
    at = listed.index("Nordvik")
    nordvik = questions.Span(at, at + len("Nordvik"), "Nordvik", "name")
    assert listed[slice(*questions._clause(listed, nordvik, apposition=True))] == "Nordvik"


def test_a_person_asked_for_is_the_name_after_a_job_title_and_its_organisation():
    sentence = (
        "Investasi Halvard sebesar Rp 5 triliun di Nordvik Power menjadi yang terbesar, dengan merekrut CEO "
        "Nordvik, Sigrid Haugen, untuk memimpin unit baru Halvard."
    )
    assert answer_span(sentence, analyze("Who did Halvard hire?")).text == "Sigrid Haugen"
    assert answer_span(sentence, analyze("Which company did Halvard invest in?")).text == "Nordvik Power"
    said = "Dalam video itu, Presiden Nordvik Sigrid Haugen memperkenalkan kapal Fjordline."
    # a person, after a title and a company: no company
    assert "Sigrid Haugen" not in [s.text for s in answer_spans(said, analyze("Which company made the video?"))]


def test_a_company_asked_for_is_not_answered_by_a_person_named_with_a_title():
    said = '"We will sort out who pays," chief executive Ingrid Solberg said.'
    assert answer_span(said, analyze("Which insurance company covers the Skarv wind farm?")) is None
    assert answer_span(said, analyze("Who leads the company?")).text == "Ingrid Solberg"  # a person asked for
    both = "The cable is insured by Gjensidige, chief executive Ingrid Solberg said."
    assert answer_span(both, analyze("Which insurance company covers the cable?")).text == "Gjensidige"
    direktur = "Menurut direktur utama Budi Santoso, pabrik itu sudah diasuransikan."
    assert answer_span(direktur, analyze("Perusahaan mana yang mengasuransikan pabrik itu?")) is None
    consejero = "El cable lo fabricó Nordkabel, según el consejero delegado Mateo Arrieta."
    assert answer_span(consejero, analyze("¿Qué empresa fabricó el cable?")).text == "Nordkabel"


def test_a_unit_after_a_figure_is_not_a_name_or_a_place():
    for sentence, question in (
        (
            "Llano Norte tendrá una capacidad total de 640 MW, de los cuales 420 MW serán solares.",
            "¿Dónde está Llano Norte?",
        ),
        ("Pabrik Nusa Digital berkapasitas 4 GWh per tahun.", "Di mana pabrik Nusa Digital?"),
        ("The Narvik site will draw 300 MW from the grid.", "Who supplies the Narvik site?"),
    ):
        assert answer_span(sentence, analyze(question)) is None
    # a name of several words after a figure is still a name
    sentence = "The contract went to 3 Nordic Power Partners, a consortium."
    assert answer_span(sentence, analyze("Who won the contract?")).text == "Nordic Power Partners"


def test_a_weekday_alone_is_the_day_of_the_report_not_the_answer():
    """ "said on Tuesday" dates the news; a question in another language than the article shares none of
    its words to tell the clauses apart, and the name it shares stands next to the weekday."""
    for sentence, question, date in (
        (
            "Fjordkraft said on Tuesday that the first halls of its Narvik data centre open in 2027.",
            "Kapan pusat data Fjordkraft dibuka?",
            "2027",
        ),
        (
            "Nusa Digital mengatakan pada Senin bahwa pusat datanya beroperasi Maret 2028.",
            "When will the Nusa Digital data centre start operating?",
            "Maret 2028",
        ),
        (
            "La empresa Solaria Norte anunció el martes que la planta abrirá en 2029.",
            "When will the Solaria Norte plant open?",
            "2029",
        ),
    ):
        assert answer_span(sentence, analyze(question)).text == date
    # a weekday is still an answer when it is the only date
    signed = "Fjordkraft signed the lease on Tuesday."
    assert answer_span(signed, analyze("When did Fjordkraft sign the lease?")).text == "Tuesday"


def test_a_capacity_or_size_is_not_answered_by_money():
    """ "What is the plant's capacity?" beside "a $1.1 billion plant" wants the gigawatt-hours, in any language."""
    lead = "Nordvik Power opened a $1.1 billion battery plant in Tromsø on Monday."
    assert answer_span(lead, analyze("What is the annual production capacity of Nordvik's plant?")) is None
    both = "The $1.1 billion plant can make 6 gigawatt-hours of cells a year."
    assert answer_span(both, analyze("What is the production capacity of Nordvik's plant?")).text.startswith(
        "6 gigawatt"
    )
    assert answer_span(both, analyze("How much did Nordvik's plant cost?")).text == "$1.1 billion"
    pabrik = "Pabrik senilai Rp 9 triliun itu berkapasitas 4 GWh per tahun."
    assert answer_span(pabrik, analyze("Berapa kapasitas pabrik itu?")).text == "4 GWh"
    planta = "La planta, de 300 millones de euros, tendrá una capacidad de 900 MW."
    assert answer_span(planta, analyze("¿Cuál es la capacidad de la planta?")).text == "900 MW"
    # a loss is a sum of money: not the 12% drop beside it
    loss = "Nordvik's shares fell 12% after it reported a net loss of NOK 800 million."
    assert answer_span(loss, analyze("How large was Nordvik's net loss?")).text == "NOK 800 million"


def test_a_figure_joined_to_its_unit_counts_that_unit_only():
    from bot.retrieval.questions import typed_spans

    sentence = "Nordvik Power runs a 640-megawatt plant in Tromsø with 1,200 employees."
    assert [s.text for s in typed_spans(sentence, "how_many")] == ["640-megawatt", "1,200 employees"]
    assert answer_span(sentence, analyze("How many employees does Nordvik Power have?")).text == "1,200 employees"
    assert answer_span(sentence, analyze("Berapa banyak karyawan Nordvik Power?")).text == "1,200 employees"
    assert answer_span(sentence, analyze("How many megawatts can the Nordvik plant deliver?")).text == "640-megawatt"
    alone = "Zatoka Wind is a 1-gigawatt project off the Polish coast."
    assert answer_span(alone, analyze("How many turbines will Zatoka Wind have?")) is None
    assert (
        answer_span("Halvard signed a 15-year lease in Bergen.", analyze("How many years is the lease?")).text
        == "15-year"
    )


def test_a_rate_asked_is_answered_by_a_rate_not_by_a_total():
    both = "Listrik Tanjung Sari dijual 7,5 sen dolar AS per kWh, dari proyek senilai Rp 4 triliun."
    assert answer_span(both, analyze("Berapa tarif listrik Tanjung Sari per kWh?")).text == "7,5 sen"
    assert "Rp 4 triliun" in [
        s.text for s in answer_spans(both, analyze("How much is the Tanjung Sari project worth?"))
    ]
    assert "Rp 4 triliun" not in [s.text for s in answer_spans(both, analyze("Berapa tarif listrik per kWh?"))]
    total = "Proyek Tanjung Sari senilai Rp 4 triliun mulai dibangun."
    assert answer_span(total, analyze("Berapa tarif listrik Tanjung Sari per kWh?")) is None
    assert answer_span(total, analyze("What does Tanjung Sari charge per kWh?")) is None
    english = "The Tanjung Sari plant cost $310 million, a record for the island."
    assert answer_span(english, analyze("What does Tanjung Sari charge per kWh?")) is None
    assert answer_span("A Pro plan costs $20 a month.", analyze("How much is a Pro plan per month?")).text == "$20"
    spanish = "Solaria Norte ofreció 31,2 dólares por MWh, con una inversión de 250 millones de euros."
    assert answer_span(spanish, analyze("¿Qué precio por MWh ofreció Solaria Norte?")).text == "31,2 dólares"
    before = "Harga kopi Gayo per kilogram mencapai Rp 180.000 tahun ini, dari Rp 150.000."
    assert answer_span(before, analyze("Berapa harga kopi Gayo per kilogram?")).text.startswith("Rp 180")
    # "¿por qué?" asks why, not a rate
    assert not re.search(_RATE_ASKED, "¿Por qué pagó Solaria Norte 250 millones?")


def test_an_amount_written_in_words_is_money_in_either_language():
    from bot.retrieval.questions import typed_spans

    for sentence, amount in (
        ("Harga per kilogram mencapai dua juta rupiah.", "dua juta rupiah"),
        ("The licence costs three million dollars a year.", "three million dollars"),
    ):
        spans = [s for s in typed_spans(sentence, "how_much") if s.kind == "money"]
        assert [s.text for s in spans] == [amount]
    # a count in words stays a count
    assert all(s.kind != "money" for s in typed_spans("Dua juta orang memakai aplikasi itu.", "how_much"))


def test_a_share_is_not_a_price():
    """A percentage answers "what share" but not "how much does it cost": that wants a sum of money."""
    sentence = "Kelinci Emas says its cells are about 30% cheaper than lithium cells."
    assert answer_span(sentence, analyze("How much does one Kelinci Emas cell cost?")) is None
    assert answer_span(sentence, analyze("By how much are Kelinci Emas cells cheaper?")).text == "30%"
    tarif = "Listrik dari Waduk Sermo dijual dengan tarif 9,8 sen dolar AS per kWh, naik 12 persen."
    assert answer_span(tarif, analyze("Berapa tarif listrik Waduk Sermo?")).text == "9,8 sen"
    assert answer_span("La planta cuesta un 12% más que la de Oslo.", analyze("¿Cuál es la inversión total?")) is None


def test_another_form_of_a_word_of_the_question_is_not_the_answer():
    """ "Sweden" adds nothing to a question about a Swedish company; "Nordkabel" does."""
    asked = analyze("Which Swedish company made the cable?")
    assert answer_span("The cable was made by a supplier in Sweden.", asked) is None
    assert answer_span("The cable was made by Nordkabel, a supplier in Sweden.", asked).text == "Nordkabel"
    asked = analyze("Which Indonesian firm built the plant?")
    assert answer_span("Pabrik itu dibangun oleh perusahaan dari Indonesia.", asked) is None


def test_names_with_capitals_beyond_ascii():
    for sentence, name in (
        ("The results were presented by Lars Øvrebø on Tuesday.", "Lars Øvrebø"),
        ("Hasilnya dipaparkan oleh Łucja Ådnøy di Oslo.", "Łucja Ådnøy"),
    ):
        assert answer_span(sentence, analyze("Who presented the results?")).text == name


def test_the_answer_in_the_clause_that_says_what_was_asked():
    """Two dates in one sentence: the one in the clause holding the question's words."""
    for question, sentence, date in (
        (
            "¿Cuándo comenzará la operación comercial de Pico Verde?",
            "La construcción comenzará en 2026 y la operación comercial está prevista para 2028.",
            "2028",
        ),
        (
            "When will the Pico Verde plant start commercial operation?",
            "Building starts in 2026, while commercial operation is planned for 2028.",
            "2028",
        ),
        ("Kapan pembangunan dimulai?", "Pembangunan dimulai pada 2026, dan operasi komersial pada 2028.", "2026"),
    ):
        assert answer_span(sentence, analyze(question)).text == date


def test_a_name_of_the_question_anchors_as_written():
    """ "Wind" the company name is not "the wind" of an ordinary sentence."""
    asked = analyze("Who is Halvorsen Wind's finance chief?")
    sentence = "The wind farms make money, finance chief Lars Øvrebø told analysts."
    assert answer_span(sentence, asked).text == "Lars Øvrebø"
    assert answer_span(sentence, asked).fit == 1.0


def test_a_unit_is_read_whole():
    assert [s.text for s in typed_spans("PLTS berkapasitas 145 megawatt-peak di Waduk.", "how_much")] == [
        "145 megawatt-peak"
    ]


@pytest.mark.parametrize(
    ("question", "text", "names_it"),
    [
        ("Siapa pengganti Budi Santoso?", "Santoso kini menjadi arsitek kepala.", True),  # a part standing alone
        ("Siapa pengganti Budi Santoso?", "Seperti Budi Hartono, ia menolak berkomentar.", False),  # shares "Budi"
        ("How many staff does Nordvik Power have?", "Nordvik cut 300 jobs.", True),
        ("How many staff does Nordvik Power have?", "The write-down on Sørvik Power hit profits.", False),
        ("Who is the CEO of Nordvik?", "Nordvik Power ASA said on Monday.", True),  # inside a longer name
        ("Siapa CEO Nordvik?", "CEO Sørvik, Lars Berg, berbicara.", False),  # "CEO" is the relation, not a name
        ("¿Quién dirige Solaria Andina?", "As Andina grows, it hires.", True),  # "As" only opens the sentence
        ("What happened this week?", "Anything at all.", True),  # a question naming nothing
    ],
)
def test_a_text_names_the_subject_by_its_name_not_by_a_shared_word(question, text, names_it):
    assert mentions_subject(analyze(question), text) is names_it


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        # "Madrid-based" says where the developer is; "in northern Chile" is where its project is
        (
            "Where is Ventisca Energía headquartered?",
            "Ventisca Energía, the Madrid-based developer, will build its next plant in northern Chile.",
            "Madrid",
        ),
        ("Where is Tidewater Grid based?", "The Lisbon-headquartered Tidewater Grid works in Spain.", "Lisbon"),
        (
            "Di mana kantor pusat Tidewater Grid?",
            "Tidewater Grid, yang berkantor pusat di Lisboa, bekerja di Spanyol.",
            "Lisboa",
        ),
    ],
)
def test_the_place_of_a_based_company_answers_where_it_is(question, sentence, answer):
    assert questions.answer_span(sentence, questions.analyze(question), sentence).text == answer


@pytest.mark.parametrize(
    ("sentence", "near"),
    [
        ("Tidewater Grid, the Lisbon-based consultancy, published the report.", True),
        ("Tidewater Grid, con sede en Lisboa, publicó el informe.", True),
        ("Tidewater Grid, yang berkantor pusat di Lisboa, menerbitkan laporan itu.", True),
        ("Tidewater Grid published a report that the Lisbon-based installers of southern Spain welcomed.", False),
    ],
)
def test_a_relation_is_stated_for_a_name_only_within_a_few_words_of_it(sentence, near):
    asked = questions.analyze("Where is Tidewater Grid based?")
    assert questions.stated_near("headquarters", sentence, asked) is near


@pytest.mark.parametrize(
    ("sentence", "alone"),
    [
        ("Chief financial officer Marta Reis told clients the studies take longer.", True),
        ("Direktur keuangan Joko Pranoto mengatakan kajian itu membantu.", True),
        ("Orbit Bus's chief financial officer Joko Pranoto said the buses were cheaper.", False),
        ("El director financiero de Orbit Bus, Joko Pranoto, lo anunció.", False),
        ("The buses arrive in May.", False),
    ],
)
def test_a_role_is_alone_when_no_name_holds_it(sentence, alone):
    assert questions.role_alone("cfo", sentence) is alone


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        # "kopi" is a word of the company's name, not the coffee the other clause is about
        (
            "Who runs Kopi Lembah Hijau?",
            "Direktur utama Kopi Lembah Hijau, Sari Wulandari, mengatakan perusahaan membeli biji kopi langsung "
            "dari petani lereng Gunung Sumbing.",
            "Sari Wulandari",
        ),
        (
            "¿Quién dirige Café Montaña Verde?",
            "La directora de Café Montaña Verde, Ana Ruiz, dijo que compran el café a productores de Huila.",
            "Ana Ruiz",
        ),
    ],
)
def test_the_words_of_a_name_are_not_read_again_as_ordinary_words(question, sentence, answer):
    assert questions.answer_span(sentence, questions.analyze(question), sentence).text == answer


def test_a_name_sharing_one_word_with_the_questions_is_not_next_to_it():
    """ "Zatoka Wind" is not "Halvorsen Wind": a figure beside it is not a plain answer about Halvorsen."""
    asked = questions.analyze("How much did Halvorsen Wind pay for its stake in the Costa da Morte wind farm?")
    other = "The result was pulled into the red by a write-down of NOK 900 million on Zatoka Wind."
    own = "Halvorsen Wind paid NOK 900 million for the stake."
    assert questions.answer_span(other, asked, other).fit < questions.answer_span(own, asked, own).fit


@pytest.mark.parametrize(
    ("a", "b", "alike"),
    [
        ("tariff", "tarif", True),  # English, Indonesian
        ("local", "lokal", True),
        ("construction", "konstruksi", True),
        ("technology", "teknologi", True),
        ("electricity", "electricidad", True),  # Spanish
        ("company", "compañía", True),
        ("battery", "baterías", True),
        ("tarifa", "tarif", True),
        ("contract", "control", False),  # one start, two words
        ("international", "internet", False),
        ("port", "portfolio", False),
        ("tariff", "turbine", False),
    ],
)
def test_words_spelled_alike_across_languages(a, b, alike):
    assert questions.cognate(a, b) is alike
    assert questions.cognate(b, a) is alike


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        # the names and the words that go with them ("wind farm") are what it asks about
        ("What ferry tariff was agreed for the Harbor Kite crossing?", {"ferry", "tariff", "agreed"}),
        ("Which insurance company covers the Harbor Kite ferry?", {"insurance", "cover"}),  # "company": the kind
        ("How many local workers will Harbor Kite hire?", {"local", "worker"}),
        ("What price per MWh did Harbor Kite pay?", {"price", "mwh"}),  # the unit of the rate asked
        ("Berapa tarif feri Harbor Kite?", {"tarif", "feri"}),
        ("¿Qué tarifa cobra Harbor Kite en Bergen?", {"tarifa", "cobra"}),
    ],
)
def test_the_words_for_what_is_asked(question, asked):
    assert questions.asked_words(analyze(question)) == asked


@pytest.mark.parametrize(
    ("question", "sentence", "beside"),
    [
        # the answer in another language, beside the asked word spelled alike
        ("What ticket tariff does Harbor Kite charge?", "Penumpang membayar tarif NOK 45 untuk menyeberang.", True),
        ("¿Qué tarifa cobra Harbor Kite?", "Passengers pay a tariff of NOK 45 a crossing.", True),
        ("How many local jobs did Harbor Kite create?", "Proyek itu menciptakan 80 lapangan kerja lokal.", True),
        # a sum beside the name only is what something else costs
        ("What ticket tariff does Harbor Kite charge?", "Harbor Kite, at NOK 300 million, ordered ferries.", False),
        # a count counts the words right after it, not a cognate further on
        (
            "¿Cuántos transbordadores eléctricos opera Harbor Kite?",
            "Harbor Kite recortó 300 empleos de su flota eléctrica.",
            False,
        ),
        # the asked word inside the answer is not beside it
        ("Which insurance company covers Harbor Kite?", "It was insured by Insurance Partners Ltd.", False),
        # a unit of time asked, in the count or right after it, in any language
        ("How many years has Harbor Kite sailed?", "Harbor Kite telah berlayar selama 12 tahun.", True),
        ("¿Cuántos años lleva Harbor Kite navegando?", "Harbor Kite has sailed for 12 years.", True),
        ("How many days did the strike at Harbor Kite last?", "La huelga en Harbor Kite duró 9 días.", True),
        ("How many months has Harbor Kite sailed?", "Harbor Kite telah berlayar selama 12 tahun.", False),
    ],
)
def test_an_answer_beside_the_asked_words(question, sentence, beside):
    asked = analyze(question)
    span = questions.answer_span(sentence, asked, sentence)
    assert span is not None
    assert questions.beside_asked(sentence, span, asked) is beside


@pytest.mark.parametrize(
    ("question", "place"),
    [
        ("At which port will Nordvik assemble the turbines?", "port"),
        ("To which Chilean port will Nordvik ship the cells?", "port"),  # words between "which" and the kind
        ("Di pelabuhan mana turbin Nordvik dirakit?", "port"),
        ("¿En qué puerto se ensamblarán las turbinas de Nordvik?", "port"),
        ("Di kota mana kantor pusat Nordvik?", "city"),
        ("In which province is the Nordvik plant?", "province"),
        ("Where is Nordvik based?", None),  # no kind of place: any place
        ("Di negara mana Nordvik berinvestasi?", None),  # a country's name says what it is
    ],
)
def test_the_kind_of_place_a_question_asks_for(question, place):
    asked = analyze(question)
    assert questions.answer_kind(asked) == "where"
    assert questions.place_kind(asked) == place


@pytest.mark.parametrize(
    ("sentence", "answer"),
    [
        ("Komponen turbin akan dirakit di Pelabuhan Merak, Banten.", "Pelabuhan Merak"),
        ("The blades will be shipped from Banten to the port of Merak.", "Merak"),
        ("Las palas se ensamblarán en el puerto de Ferrol, en Galicia.", "Ferrol"),
        ("The turbines will stand off the coast of Banten.", None),  # a place, but no port
    ],
)
def test_a_place_of_the_kind_asked_answers(sentence, answer):
    asked = analyze("At which port will Nordvik assemble the turbines?")
    span = answer_span(sentence, asked, sentence)
    assert (span.text if span else None) == answer
    # a where-question that names no kind of place takes any place
    assert answer_span(sentence, analyze("Where will Nordvik assemble the turbines?"), sentence) is not None


@pytest.mark.parametrize(
    ("question", "sentence", "whole"),
    [
        # a sum with its currency and what it is per: still a span of the sentence
        (
            "Berapa tarif listrik Waduk Sermo?",
            "Listrik dijual dengan tarif 9,8 sen dolar AS per kWh melalui PLN.",
            "9,8 sen dolar AS per kWh",
        ),
        (
            "¿Qué precio ofreció Nordvik?",
            "Nordvik ofreció un precio de 28,7 dólares por MWh, uno de los más bajos.",
            "28,7 dólares por MWh",
        ),
        ("How much does the Nordvik plan cost?", "Subscribers pay $20 a month for the Nordvik plan.", "$20 a month"),
        (
            "How much will the Nordvik plant cost?",
            "The Nordvik plant will cost $3.4 billion, the company said.",
            "$3.4 billion",
        ),
        (
            "How many turbines will Nordvik install?",
            "Nordvik will install 80 turbines per site.",
            "80 turbines",
        ),  # counts: as found
    ],
)
def test_the_short_answer_is_the_whole_sum(question, sentence, whole):
    span = answer_span(sentence, analyze(question), sentence)
    assert questions.whole_answer(sentence, span) == whole
    assert whole in sentence


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("The ferry was cancelled because the harbour froze.", True),
        ("Sales fell due to a weak winter.", True),
        ("The firm cut prices in order to win back buyers.", True),
        ("Pabrik ditutup karena bahan baku habis.", True),
        ("Harga naik sehingga pembeli beralih ke merek lain.", True),
        ("El retraso se debe a que faltan piezas.", True),
        ("La planta cerró porque el agua escaseaba.", True),
        ("The ferry sails at noon from Pier 3.", False),
        ("Pabrik itu mempekerjakan 200 orang.", False),
        ("La empresa produce cuatro millones de botellas.", False),
        ("Becausewords are not split: the Reasonable Co. opened.", False),  # whole words only
        # "due to" as a timetable, not a cause
        ("The ferry line was due to open in May.", False),
        ("The plant is due to start in June.", False),
        ("The delay was due to the storm.", True),
        ("Output fell due to weak demand.", True),
    ],
)
def test_gives_reason_reads_a_cause_or_purpose_in_three_languages(sentence, reason):
    assert questions.gives_reason(sentence) is reason


def test_the_names_asked_about_leave_out_months_and_weekdays():
    """ "July" is "Juli" in an Indonesian article: a date, which the date rules read, not a name to find."""
    runs = questions.entity_runs(analyze("Why did Anthropic limit Claude Code in July?"))
    assert runs == ({"anthropic"}, {"claude", "code"})
    assert questions.entity_runs(analyze("Mengapa Harbor Kite tutup pada Senin?")) == ({"harbor", "kite"},)
