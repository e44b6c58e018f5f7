"""Page cleaning on scraped pages written for these tests (not the seeds), in three languages.

Each page has what scraping leaves around an article: navigation words before the
headline, a repeated headline, a credit line, "read also" links and an advert mid-article,
and a footer (share buttons, a comment prompt, a related list, a newsletter box, a
reference list). Some body paragraphs begin with those same words and must survive.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.retrieval.loading import clean_lines

EN_TITLE = "OpenAI Reports Strong Growth In Paid Subscriptions"
EN_BODY = [
    "By Jane Doe · March 3, 2026",  # a byline stays (the chunker reads it as a heading, never quotes it)
    "OpenAI said on Tuesday that its paid subscriptions grew faster than expected in the last quarter.",
    "The company did not give exact figures, but two people familiar with the numbers said revenue rose by a third.",
    "Subscribers to ChatGPT Plus rose to more than twenty million by the end of the year, the company said.",
    "Related research from Stanford suggests that paying users ask longer and more complex questions.",
    "Newsletter publishers have also started to sell bundles that include access to AI assistants.",
    "Comments from analysts were mostly positive, although some warned that growth may slow next year.",
    "Sources close to the company said a new pricing plan will be announced before the summer.",
    "Share prices of listed rivals rose on the news, with one chip maker gaining seven percent.",
]
EN_PAGE = [
    "Skip to content",
    "Menu",
    "Search",
    "Sign in",
    EN_TITLE,
    EN_TITLE,
    EN_BODY[0],
    "Photo: Reuters",
    EN_BODY[1],
    EN_BODY[2],
    "Advertisement",
    "Read also: Anthropic Hires A New Chief Technology Officer",
    *EN_BODY[3:],
    "(Reuters)",
    "Share this article",
    "12 Comments",
    "Leave a Reply",
    "Related articles",
    "Microsoft Expands Its Data Centers In Europe",
    "Google Releases A New Gemini Model",
    "Newsletter",
    "Sign up for our daily briefing.",
    "Sources:",
    "[1] OpenAI blog post on subscriptions and revenue growth in the last quarter",
    "[2] Company statement to investors",
]

ID_TITLE = "Startup Nusantara Raih Pendanaan Rp 2 Triliun Untuk Pusat Data"
ID_BODY = [
    "JAKARTA - Startup Nusantara mengumumkan pendanaan baru senilai Rp 2 triliun untuk membangun pusat data di Batam.",
    "Dana tersebut berasal dari sejumlah investor lokal dan dua perusahaan modal ventura asal Singapura.",
    "Komentar Sam Altman soal pasar Indonesia ikut mendorong minat investor terhadap pusat data lokal, kata analis.",
    "Baca juga laporan tahunan perusahaan yang menyebut kebutuhan listrik pusat data naik dua kali lipat.",
    "Berita terkait peluncuran itu sudah beredar sejak pekan lalu di berbagai media nasional.",
    "Sumber dana tambahan akan dicari tahun depan untuk membangun fasilitas kedua di Surabaya.",
    "Tinggalkan kantor lama di Bandung, perusahaan kini memindahkan seluruh timnya ke Batam.",
]
ID_PAGE = [
    "menu",
    "close",
    "Cari",
    ID_TITLE,
    "Foto: Antara/Budi Santoso",
    ID_BODY[0],
    ID_BODY[1],
    "Iklan",
    "BACA JUGA: OpenAI Buka Kantor Baru di Jakarta",
    *ID_BODY[2:],
    "Bagikan:",
    "Tinggalkan komentar",
    "Berita Terkait",
    "OpenAI Buka Kantor Baru di Jakarta",
    "Harga GPU Naik Lagi Bulan Ini",
    "Berlangganan newsletter",
    "Sumber:",
    "[1] Siaran pers Startup Nusantara tentang pendanaan pusat data di Batam tahun ini",
]

FR_TITLE = "Mistral AI lève 600 millions d'euros pour ses modèles ouverts"
FR_BODY = [
    "Mistral AI a annoncé mardi une levée de fonds de 600 millions d'euros auprès d'investisseurs européens.",
    "La start-up parisienne veut doubler ses effectifs d'ici à la fin de l'année, selon son directeur général.",
    "Commentaires des investisseurs : la plupart saluent une stratégie claire, mais certains doutent de la rentabilité.",
    "À lire aussi dans ce dossier, une analyse détaillée des coûts de calcul des grands modèles de langage.",
    "Sources et analystes s'accordent à dire que la concurrence américaine reste très forte sur ce marché.",
    "Partager les coûts avec un opérateur de télécoms fait partie des options étudiées par la direction.",
]
FR_PAGE = [
    "Aller au contenu",
    "Rechercher",
    FR_TITLE,
    "Crédit photo : AFP",
    FR_BODY[0],
    FR_BODY[1],
    "Publicité",
    "Lire aussi : Le gouvernement prépare un plan national pour les centres de données",
    *FR_BODY[2:],
    "Partager cet article",
    "Laisser un commentaire",
    "Articles similaires",
    "Nvidia dévoile une nouvelle puce",
    "Sources :",
    "[1] Communiqué de presse de Mistral AI publié mardi matin à Paris",
]


@pytest.mark.parametrize(
    ("page", "title", "body"),
    [(EN_PAGE, EN_TITLE, EN_BODY), (ID_PAGE, ID_TITLE, ID_BODY), (FR_PAGE, FR_TITLE, FR_BODY)],
    ids=["en", "id", "fr"],
)
def test_a_scraped_page_keeps_its_whole_article_and_nothing_else(page, title, body):
    assert clean_lines("\n\n".join(page)) == (title, body)
    assert clean_lines("\n".join(page)) == (title, body)  # single newlines between lines too


def test_a_long_comment_section_is_cut_even_when_it_outweighs_the_article():
    body = [
        "Volcano Robotics opened a research lab in Oslo with forty engineers on Monday.",
        "The lab will build walking robots for warehouses, the company said.",
    ]
    comments = [f"Reader {i} wrote a long comment about robots that goes on and on. " * 4 for i in range(5)]
    page = ["Volcano Robotics Opens A Lab In Oslo", *body, "5 Comments", *comments]
    assert clean_lines("\n".join(page)) == ("Volcano Robotics Opens A Lab In Oslo", body)


def test_a_newsletter_box_early_in_the_article_is_dropped_without_cutting_the_rest():
    body = [f"Paragraph {i} of the report says something long enough to be a sentence." for i in range(6)]
    page = ["A Report On Something New", body[0], "Newsletter", "Related articles", *body[1:]]
    assert clean_lines("\n".join(page)) == ("A Report On Something New", body)


_LINES = st.one_of(
    st.text(max_size=80),
    st.sampled_from([*EN_PAGE, *ID_PAGE, *FR_PAGE, "", "   ", "Comments", "Sources:", "(AP)", "BACA JUGA: x"]),
)


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(_LINES, max_size=30))
def test_any_page_gives_a_title_and_lines_taken_from_it(page):
    title, lines = clean_lines("\n".join(page))
    source = {" ".join(ln.split()) for ln in "\n".join(page).splitlines()}
    assert all(lines) and title not in lines
    assert {" ".join(ln.split()) for ln in [title, *lines] if ln} <= source


def test_a_page_in_a_script_without_spaces_keeps_its_paragraphs():
    title = "深度求索发布新的开源推理模型"
    body = [
        "深度求索周二发布了新的开源推理模型，性能接近业内领先水平。",
        "公司表示，新模型的训练成本比上一代降低了一半，并将免费提供给研究人员。",
        "分析人士认为，这将加剧开源模型之间的竞争。",
    ]
    assert clean_lines("\n".join(["首页", "菜单", title, *body])) == (title, body)


@pytest.mark.parametrize(
    "crumb", ["Home › Markets › Energy", "Inicio » Economía » Energía", "Beranda > Tekno > AI", "News › Asia"]
)
def test_a_breadcrumb_trail_is_navigation_not_the_title(crumb):
    title, lines = clean_lines("\n\n".join([crumb, EN_TITLE, *EN_BODY[1:3]]))
    assert title == EN_TITLE and lines == EN_BODY[1:3]


def test_a_headline_with_a_separator_is_still_a_headline():
    # a long item is not a breadcrumb step: the headline stays the title
    headline = "Markets › Why the Price of Offshore Wind Turbines Keeps Falling Year After Year"
    assert clean_lines("\n\n".join([headline, *EN_BODY[1:3]]))[0] == headline
