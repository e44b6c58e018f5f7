"""What a question asks for: its language, its kind, and the words any answer must be about.

Declining, highlighting and the short answer all start from here. The rules read the
question words of English and Indonesian (the languages the bot answers in); a question
in another language still gets its names, figures and terms, and kind "what".

Names and figures are what a fact keeps across languages: "Meta" and "1,3 juta" are the
same in an English question and an Indonesian article, while "employees" is not.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import Literal

from bot.retrieval import lexical

Kind = Literal["who", "when", "where", "how_many", "how_much", "why", "yes_no", "what"]
Lang = Literal["en", "id"]

# Checked in order: "tahun berapa" is a date before "berapa" is an amount; "how many"
# and ages are counts before "how much" and a bare "berapa" are amounts.
_KINDS: tuple[tuple[Kind, re.Pattern], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("when", r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\bkapan\b|\b(tahun|tanggal|bulan|hari) (berapa|apa)\b"),
        ("where", r"\bwhere\b|\bdi ?mana\b|\bke ?mana\b|\bdari ?mana\b|\bin which (city|country|place)\b"),
        ("who", r"\bwho(m|se)?\b|\bsiapa(kah)?\b"),
        (
            "why",
            r"\bwhy\b|\bmengapa\b|\bkenapa\b|\bfor what reason\b|\bwhat (is|was|were) the reasons?\b"
            r"|\bapa (alasan|penyebab)\b|\bpor qu[eé]\b|\b(cu[aá]l|qu[eé]) (es|fue|era) (la raz[oó]n|el motivo)\b",
        ),
        (
            "how_many",
            r"\bhow many\b|\bhow old\b|\bberapa (banyak|jumlah|orang|unit|buah|kali|umur|usia|lama)(nya)?\b"
            r"|\b(jumlah|umur|usia)(nya)?\b.*\bberapa\b",
        ),
        ("how_much", r"\bhow much\b|\bberapa\b|\bwhat (is|was) the (price|cost|value|amount)\b"),
        ("yes_no", r"^(do|does|did|is|are|was|were|can|could|will|would|has|have|had|should|apakah|adakah)\b"),
    )
)

# Function words that tell the two answer languages apart in a short question.
_ID_WORDS = frozenset(
    "apa apakah siapa siapakah kapan mengapa kenapa bagaimana berapa dimana mana yang dan di ke dari untuk "
    "dengan ini itu adalah akan sudah telah tidak bukan dalam pada oleh atau juga saat apa".split()
)
_EN_WORDS = frozenset(
    "what who whom whose when where why how which is are was were do does did the a an of to in for on with "
    "and or by will would can could has have had it its this that there".split()
)
# Question words of Spanish, which the bot reads though it does not answer in it: "¿Cuánto...?"
# opens a question, it names nothing.
_ES_QUESTION_WORDS = frozenset(
    "qué que quién quiénes cuándo dónde adónde cuánto cuánta cuántos cuántas cuál cuáles cómo por".split()
)
_QUESTION_WORDS = _EN_WORDS | _ID_WORDS | _ES_QUESTION_WORDS | {"berapa", "how"}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# A name: a word with a capital after its first letter (OpenAI, iPhone) or any capitalised
# word that is not the question's first word; an acronym (GPU, CTO) counts too.
# Capital letters, beyond ASCII: Øvrebø, Łukasz, Šimon are names too.
UPPER = "A-Z" + "".join(c for c in map(chr, range(0xC0, 0x250)) if c.isupper())
_NAME = re.compile(rf"\b[^\W\d_]*[{UPPER}][\w.&-]*[\w&]|\b[{UPPER}]\b")
_NUMBER = re.compile(r"\d[\d.,]*\d|\d")
_POSSESSIVE = re.compile(r"['’]s?$")


@dataclass(frozen=True)
class Question:
    text: str
    lang: Lang  # the language the bot answers in
    kind: Kind
    names: tuple[str, ...]  # as written, without possessive 's
    numbers: tuple[str, ...]
    terms: tuple[str, ...]  # lexical tokens, stopwords dropped (lexical.tokens)
    # a follow-up's earlier questions in the thread, oldest first: what "he" or "it" refers to.
    # Their names, figures and terms are merged into the fields above; text, lang and kind stay the new question's.
    context: tuple[str, ...] = ()

    @property
    def searched(self) -> str:
        """The text to search for: the earlier questions, then this one."""
        return " ".join((*self.context, self.text))

    @property
    def wants_figure(self) -> bool:
        return self.kind in ("how_many", "how_much")


def language(text: str) -> Lang:
    """Indonesian when it has more Indonesian than English function words; English otherwise."""
    words = [w.casefold() for w in _WORD.findall(text)]
    indonesian = sum(w in _ID_WORDS for w in words)
    english = sum(w in _EN_WORDS for w in words)
    return "id" if indonesian > english else "en"


def kind(text: str) -> Kind:
    for name, pattern in _KINDS:
        if pattern.search(text):
            return name
    return "what"


def names(text: str) -> tuple[str, ...]:
    """Capitalised words and acronyms, except a capitalised first word that is an ordinary word."""
    found = []
    for m in _NAME.finditer(text):
        word = _POSSESSIVE.sub("", m.group(0))
        first = m.start() == len(text) - len(text.lstrip(" ¿¡\"'“"))
        if first and word[1:].islower() and (word.casefold() in _QUESTION_WORDS or word.casefold() in _OPENERS):
            continue  # "Who", "Siapa", "Berapa", "At which port…": a question or function word, not a name
        if first and word[1:].islower() and re.match(rf"\s+(?:[{UPPER}][\w-]*\s+)?(?:apa|mana)\b", text[m.end() :]):
            continue  # "Produk OpenAI apa…?", "Bank mana…?": the kind of thing asked for, not a name
        if len(word) > 1 or word.isupper():
            found.append(word)
    return tuple(dict.fromkeys(found))


def analyze(text: str) -> Question:
    return Question(
        text=text,
        lang=language(text),
        kind=kind(text),
        names=names(text),
        numbers=tuple(dict.fromkeys(_NUMBER.findall(text))),
        terms=tuple(dict.fromkeys(lexical.tokens(text))),
    )


# --- Follow-ups in a thread ---------------------------------------------------------------
#
# "And how old is he?" cannot be searched alone: it names nothing. A question that points
# back (a pronoun or a demonstrative, Indonesian "-nya", an opening "and" / "what about" /
# "dan" / "kalau"), or that has no name, figure or more than one content word of its own,
# is searched together with the thread's earlier questions (engine.Engine.ask).

_BACK_WORDS = frozenset(
    """he she it they him her his hers its their theirs them this these those
    dia ia beliau mereka itu ini tersebut tsb sana situ""".split()
)
_OPENS_ELLIPSIS = re.compile(
    r"^\W*(?:and|also|so|then|but|what about|how about|and what about|dan|lalu|terus|trus|kalau|kalo|"
    r"bagaimana dengan|gimana dengan|serta|juga)\b",
    re.IGNORECASE,
)
# "umurnya", "CEO-nya", "perusahaannya": Indonesian "its / his" on a word of three letters or more
_NYA = re.compile(r"(?:\w{3,}-?|-)nya\b", re.IGNORECASE)


def refers_back(question: Question) -> bool:
    """Whether the question leans on what was asked before: a pronoun, an elliptical opening,
    or nothing of its own to search for (no name, no figure, at most one content word)."""
    words = {w.casefold() for w in _WORD.findall(question.text)}
    if words & _BACK_WORDS or _OPENS_ELLIPSIS.search(question.text) or _NYA.search(question.text):
        return True
    return not question.names and not question.numbers and len(question.terms) <= 1


def follow_up(question: Question, earlier: tuple[str, ...]) -> Question:
    """The question read in its thread: the earlier questions' names, figures and terms added
    after its own, so the answer may be about them; its text, language and kind unchanged."""
    if not earlier:
        return question
    before = [analyze(e) for e in earlier]

    def merged(field: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*getattr(question, field), *(x for b in before[::-1] for x in getattr(b, field))]))

    return replace(
        question, names=merged("names"), numbers=merged("numbers"), terms=merged("terms"), context=tuple(earlier)
    )


# --- What a short answer can be, and where it is in a sentence --------------------------
#
# A question of kind who / when / where / how many / how much has a short answer: a name,
# a date, a place or a figure, found verbatim in the sentence that answers. The patterns
# below read English, Indonesian and Spanish text (month and weekday names, number words,
# scale words such as "juta" and "millones", figures like "1,3 juta", "$14,8 miliar",
# "€450 juta", "2.500 trabajadores"). They are written by hand: dateparser's search_dates
# reads dates in these languages too but costs ~0.3 s to import and warm up, more than a
# whole cold `newsbot ask`, and number-parser has no Indonesian. The long patterns are
# kept as strings, compiled by `re` (and cached there) on first use: importing this module
# at start-up costs nothing more.

# Words that give a cause or a purpose, in the languages read: a why-question is answered by a
# sentence holding one ("Batam dipilih karena dekat dengan Singapura"), not by the one beside it
# that only repeats the question's words. A cue, not proof: "because" may give another cause.
# "Was due to" is a timetable ("was due to send its first power") unless a noun phrase follows.
_REASON = re.compile(
    r"(?i)\bdue to\s+(?:the|a|an|its|their|his|her|this|that|these|those)\b"
    r"|(?<!\bis )(?<!\bwas )(?<!\bare )(?<!\bwere )(?<!\bbe )\bdue to\b"
    r"|\b(?:because|owing to|thanks to|as a result of|so that|in order to|aims? to|aimed at|reasons?"
    r"|driven by|caused by|which is why|that is why|karena|sebab|lantaran|disebabkan|berkat|mengingat|agar"
    r"|supaya|sehingga|alasan(?:nya)?|pendorong|penyebab|bertujuan|porque|debido a|se debe a|ya que|puesto que"
    r"|dado que|gracias a|a causa de|por eso|por ello|raz[oó]n|motivo|para que|con el fin de)\b"
)


def gives_reason(sentence: str) -> bool:
    """Whether the sentence states a cause or a purpose (`_REASON`)."""
    return _REASON.search(sentence) is not None


AnswerKind = Literal["who", "when", "where", "how_many", "how_much"]
ANSWER_KINDS: tuple[AnswerKind, ...] = ("who", "when", "where", "how_many", "how_much")

_QUANTITY_NOUNS = (
    r"share|percentage|percent|proportion|price|valuation|value|cost|amount|capacity|size|rate|tariff|range|"
    r"number|sum|revenue|budget|salary|fee|fine|loss|profit|investment"
)
# Named things a question may ask for ("Which vessel…?", "Model Meta apa…?", "¿Qué modelo…?", "What is the
# name of…?"), each kind by its words in the languages read. A name answers in form, whatever it names, so
# the short answer is a name beside the kind's word ("the Nordic Weaver, a vessel", "model Behemoth").
THING_KINDS: dict[str, str] = {
    "vessel": r"vessels?|ships?|boats?|kapal|buques?|barcos?",
    "model": r"models?|modelos?",
    "project": r"projects?|proyek|proyectos?",
    "product": r"products?|produk|productos?",
    "platform": r"platforms?|plataformas?",
    "unit": r"units?|divisions?|labs?|divisi|unidad(?:es)?|divisi[oó]n(?:es)?",
    "brand": r"brands?|merek|marcas?",
    "app": r"apps?|applications?|aplikasi|aplicaci[oó]n(?:es)?",
    "fund": r"funds?|fondos?",  # not "dana": a first name too ("What did Dana Whitfield say…?")
    "programme": r"programmes?|programs?|program|programas?",
    "service": r"services?|layanan|servicios?",
    "satellite": r"satellites?|satelit|sat[eé]lites?",
    # not "title" nor "título": a job's too ("What new title did McCandlish take?"); "judul" is a work's only
    "name": r"names?|named|called|dubbed|nama|bernama|judul|berjudul|nombres?|llamad[oa]s?",
}
# Up to two words between "which"/"what" and the noun asked for: "What is the name…?", "Which Google model…?";
# not an auxiliary, after which the noun is the subject and something else is asked ("What does the lab build?",
# "What did the city announce?")
_BEFORE_ASKED = r"(?:(?!(?:do|does|did|will|would|can|could|should|has|have|had)\b)[\w'’-]+\s+)"
_THING_KIND_ASKED = (
    rf"(?i)\b(?:which|what(?:['’]s)?)\s+{_BEFORE_ASKED}{{{{0,2}}}}"
    r"(?:{kind})\b|\b(?:{kind})\s+(?:[\w-]+\s+)?(?:mana|apa)\b"
    r"|\bapa\s+(?:{kind})\b|\b(?:qu[eé]|cu[aá]l(?:es)?)\s+(?:{kind})\b|\bcu[aá]l es el (?:{kind})\b"
)
# "¿Cómo se llama…?" asks a name as "What is … called?" does
_NAME_ASKED = r"(?i)\bc[oó]mo se llama"
# Questions kind() leaves as "what" whose answer is still a name, a place, a date or a figure:
# Spanish question words, "how long", "what share", "which company", "negara mana".
_MORE_KINDS: tuple[tuple[AnswerKind, str], ...] = tuple(
    (k, f"(?i:{p})")
    for k, p in (
        ("when", r"\bcu[aá]ndo\b|\ben qu[eé] (año|fecha|mes|d[ií]a)\b|\bqu[eé] (año|fecha|d[ií]a)\b"),
        (
            "where",
            r"\b(a|de)?d[oó]nde\b"
            rf"|\b(which|what) {_BEFORE_ASKED}{{0,2}}?"
            r"(city|country|port|region|state|province|place|town|island|location)\b"
            r"|\b(negara|kota|pelabuhan|provinsi|daerah|wilayah|lokasi|tempat|pulau) (mana|apa)\b"
            r"|\b(qu[eé]|cu[aá]l) (ciudad|pa[ií]s|puerto|regi[oó]n|lugar|provincia)\b",
        ),
        (
            "who",
            r"\bqui[eé]n(es)?\b"
            rf"|\b(which|what) {_BEFORE_ASKED}{{0,2}}(compan(y|ies)|firms?|organi[sz]ations?|person|people|executive)\b"
            r"|\b(perusahaan|organisasi|lembaga|pihak) (mana|apa)\b"
            r"|\b(qu[eé]|cu[aá]les?) (empresas?|compañ[ií]as?|persona)\b",
        ),
        ("how_many", r"\bhow long\b|\bcu[aá]nt[oa]s\b|\bberapa lama\b"),
        (
            "how_much",
            rf"\bcu[aá]nt[oa]\b|\bby how much\b|\bhow (large|big|high|low|heavy|deep|tall|far|wide)\b"
            rf"|\b(what|which)\b(\s+[\w'’-]+){{0,4}}?\s+({_QUANTITY_NOUNS})\b|\bwhat (is|was|are|were)\b.*\bworth\b"
            r"|\b(qu[eé]|cu[aá]l es el|cu[aá]l es la)\b(\s+\w+){0,2}?\s+"
            r"(precio|capacidad|porcentaje|valor|coste|costo|tarifa|cantidad|valoraci[oó]n|p[eé]rdida|beneficio|inversi[oó]n)\b",
        ),
    )
)


@functools.lru_cache(maxsize=256)  # read for every sentence of every candidate, as `relations` is
def thing_kind(question: Question) -> str | None:
    """The kind of named thing a what-question asks for ("Which vessel…?": "vessel"), or None."""
    if question.kind != "what":
        return None
    found = (k for k, words in THING_KINDS.items() if re.search(_THING_KIND_ASKED.format(kind=words), question.text))
    return next(found, "name" if re.search(_NAME_ASKED, question.text) else None)


def answer_kind(question: Question) -> AnswerKind | None:
    """The kind of short answer the question wants, or None (why, yes/no, what-is)."""
    if question.kind in ANSWER_KINDS:
        return question.kind
    if question.kind != "what":
        return None
    for k, pattern in _MORE_KINDS:
        if re.search(pattern, question.text):
            return k
    return "who" if thing_kind(question) else None  # after the others: "which project's cost" asks a sum


def _words(text: str) -> str:
    return "|".join(sorted(text.split(), key=len, reverse=True))


_MONTHS_CAP = _words(
    "January February March April May June July August September October November December "
    "Januari Februari Maret Mei Juni Juli Agustus Oktober Desember "
    "Jan Feb Mar Apr Jun Jul Aug Agu Agt Sep Sept Oct Okt Nov Dec Des"
)
_MONTHS_ES = _words(
    "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre"
)
_WEEKDAYS = _words(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday Senin Selasa Rabu Kamis Jumat Sabtu Minggu "
    "lunes martes miércoles jueves viernes sábado domingo"
)
_MONTH = rf"(?:\b(?:{_MONTHS_CAP})\b\.?|\b(?i:{_MONTHS_ES})\b)"
_YEAR = r"\b(?:1[89]|2[01])\d{2}\b"
_DAY = r"\b[0-3]?\d(?:st|nd|rd|th)?\b"
_DATE = (
    rf"(?:\b(?:{_WEEKDAYS}),?\s+)?"
    r"(?:\b(?i:early|late|mid|the end of|end of|the start of|the beginning of|akhir|awal|pertengahan|"
    r"finales de|principios de|mediados de)\s+)?"
    r"(?:"
    rf"{_DAY}\s+(?:de\s+)?{_MONTH}(?:,?\s+(?:de\s+|del\s+)?{_YEAR})?"  # 17 Desember 2025, 10 de septiembre
    rf"|{_MONTH}\s+{_DAY}(?:,\s*{_YEAR})?"  # June 13, 2025
    rf"|{_MONTH}(?:\s+(?:de\s+|of\s+)?{_YEAR})?(?:\s+(?:lalu|ini|depan|pasado|last))?"  # April 2026, April lalu
    r"|\b(?i:Q[1-4]|H[12])\s?" + _YEAR + r"|\b(?i:(?:first|second|third|fourth) quarter"
    r"|(?:kuartal|triwulan) (?:pertama|kedua|ketiga|keempat|[IV]+|\d)|(?:primer|segundo|tercer|cuarto) trimestre)"
    rf"(?:\s+(?:of\s+|de\s+|del\s+)?{_YEAR})?"
    rf"|{_YEAR}"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    r"|\b(?i:(?:earlier|later|early|late) (?:this|last|next) (?:week|month|year)|(?:this|last|next) "
    r"(?:week|month|year|quarter)|yesterday|today|tomorrow|(?:pekan|minggu|bulan|tahun|kuartal) (?:lalu|depan|ini)"
    r"|akhir tahun|kemarin|hari ini|besok|(?:la semana|el mes|el año|el trimestre) (?:pasad[oa]|pr[oó]xim[oa])|ayer)\b"
    rf"|\b(?:{_WEEKDAYS})\b"
    r")"
)
# An ISO currency code, a symbol, or a rupiah sign before a figure.
_CURRENCY = (
    r"(?:(?:USD|EUR|GBP|JPY|CNY|IDR|NOK|SEK|DKK|CHF|AUD|CAD|SGD|INR|KRW|BRL|MXN|CLP|ARS|ZAR|HKD|NZD|MYR|THB|PHP)\s?"
    r"|[A-Z]{0,2}\$\s?|[€£¥₹]\s?|Rp\.?\s?)"
)
_NUM = r"\d+(?:[.,]\d+)*"
_SCALE = (
    r"(?:\s?(?:thousand|million|billion|trillion|bn|mn|m|k|b)\b|\s(?:ribu|juta|miliar|milyar|triliun|mil millones|"
    r"millones|mill[oó]n|billones|bill[oó]n|mil)\b)"
)
_UNIT = (
    r"(?:\s?%|\s(?:percent|per cent|persen|por ciento)\b|\s(?:[kMGT]W[hp]?|[kMG]Wh|gigawatt-hours?|megawatt-hours?|"
    r"kilowatt-hours?|megawatt-peak|gigawatts?|megawatts?|kilowatts?|km|kilomet(?:er|re)s?|met(?:er|re)s?|hectares?|"
    r"hektar|tonnes|tons?|ton|kg|hours?|jam|days?|hari|d[ií]as?|weeks?|pekan|minggu|semanas?|months?|bulan|meses|"
    r"mes|years?|tahun|años?|people|orang|personas|employees|workers|karyawan|pekerja|empleos|trabajadores|"
    r"dollars?|d[oó]lares|dolar(?: AS)?|euros?|rupiah|coronas|kroner|yen|sen)\b)"
)
_NUMBER_WORDS = _words(
    "two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred hundreds "
    "thousands millions billions dozens double twice triple half "
    "dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas seratus seribu sejuta puluhan ratusan ribuan "
    "jutaan miliaran setengah separuh "
    "dos tres cuatro cinco seis siete ocho nueve diez once doce veinte treinta cien cientos miles decenas doble mitad"
)
_FIGURE = (
    rf"(?<![\w$€£¥₹.,-])(?P<cur>\+?{_CURRENCY})?(?P<num>{_NUM}(?:\s?(?:[-–]|to|hingga|sampai)\s?{_NUM})?)(?![\w])"
    rf"(?P<scale>{_SCALE}(?:\s(?:de|of)\s(?:euros|d[oó]lares|dollars|pesos|coronas))?)?(?P<unit>{_UNIT})?"
    rf"|(?<!\w)(?P<words>(?i:{_NUMBER_WORDS}))\b(?P<wscale>(?i:{_SCALE}|\s(?:kali lipat|times|veces)\b))?"
)
_PERCENT = r"\s?%|\s(?:percent|per cent|persen|por ciento)\b"
_MONEY_WORD = r"(?i)dollar|d[oó]lar|euro|rupiah|coronas|kroner|yen\b|\bsen\b"
_NEXT_WORD = re.compile(r"\s([^\W\d_][\w-]*)")
# A rate asked ("per kWh", "por MWh", "setiap bulan"; not "¿por qué?"), and a clause that gives
# one ("9,8 sen dolar AS per kWh", "harga per kilogram mencapai dua juta rupiah").
_RATE_ASKED = r"(?i)\b(?:per|setiap|tiap)\s+[^\W\d_]|\bpor\s+(?!qu[eé]\b|cu[aá]nt|cu[aá]l|qui[eé]n)[^\W\d_]"
_RATE_GIVEN = r"(?i)\b(?:per|por|setiap|tiap)\s+[^\W\d_]|\d\s*/\s*[^\W\d_]"
# A figure joined to its unit by a hyphen: "a 1-gigawatt project", "a 15-year contract", "720-megawatt".
_COMPOUND = re.compile(r"-([^\W\d_]+)")
# Capitalised words in a row, allowing "van", "de", "del", "da" inside (Ventos del Sur, Costa da Morte).
_NAME_RUN = (
    rf"(?<![\w.])(?:[A-Z](?:\.[A-Z])+\.?|[^\W\d_]*[{UPPER}][\w'’&-]*[\w&]|[{UPPER}]\b)"
    rf"(?:(?:\s+|\s+(?:van|von|der|de|del|da|dos|bin|al)\s+)"
    rf"(?:[A-Z](?:\.[A-Z])+\.?|[^\W\d_]*[{UPPER}][\w'’&-]*[\w&]|[{UPPER}]\b))*"
)
# Job titles and honorifics: next to a name, never the name.
_TITLES = frozenset(
    """ceo cto cfo coo cio cmo cpo vp svp evp president presiden presidente presidenta vice wakil chief officer
    director direktur directora utama manager manajer chairman chairwoman chair ketua founder co-founder pendiri
    fundador fundadora minister menteri ministro ministra secretary sekretaris secretario secretaria senior head
    kepala jefe jefa architect scientist engineer economist researcher editor partner counsel dr prof mr mrs ms
    pak bu bapak ibu sr sra don doña governor gubernur gobernador mayor alcalde analyst analis analista
    spokesperson consejero consejera delegado delegada executive eksekutif ejecutivo""".split()
)
# Capitalised only because they open a sentence.
_OPENERS = (
    frozenset(
        """according meanwhile however although after before despite while since during under with without for in on
    at by from this that these those its their his her our the a an as if when but and so also yet both each
    menurut namun sementara selain setelah sebelum meskipun walaupun dalam pada bagi dengan tanpa kini saat ketika
    sejak selama hal langkah para sang itu ini dan tetapi sedangkan bahkan terkait sebagai karena jika
    según sin además mientras tras durante desde con para por en el la los las un una este esta estos estas ese esa
    pero también aunque como""".split()
    )
    | _EN_WORDS
    | _ID_WORDS
    | lexical.STOPWORDS
)
_MONTH_OR_DAY = rf"(?:{_MONTH}|\b(?:{_WEEKDAYS})\b)$"
# "in", "en la", "di": a place follows ("in the Antofagasta region", "en la Patagonia").
_PLACE_BEFORE = (
    r"(?i:\b(?:in|at|near|from|to|into|di|ke|dari|dekat|en|cerca de|desde|de|del|puerto de|port of)\s+"
    r"(?:(?:the|el|la|los|las)\s+)?)$"
)
_CONJUNCTION = r"\b(?:and|dan|serta|y|e)\b"
_LIST_GAP = r",\s*|,?\s+(?:and|dan|serta|y|e)\s+"


@dataclass(frozen=True)
class Span:
    """A piece of a sentence that can be a short answer: offsets, the text, and what it is."""

    start: int
    end: int
    text: str
    kind: str  # "date", "money", "percent", "figure", "count" (number words), "name"
    fit: float = 1.0  # how well it answers, 0.25..1: of the preferred type, next to the question's words


def _dates(sentence: str) -> list[Span]:
    return [Span(m.start(), m.end(), m.group(), "date") for m in re.finditer(_DATE, sentence) if m.group().strip()]


def _figures(sentence: str) -> list[Span]:
    """Amounts and counts, without the numbers of dates, bare years and model versions (Llama 4)."""
    taken = [(d.start, d.end) for d in _dates(sentence) if any(c.isalpha() for c in d.text)]
    out = []
    for m in re.finditer(_FIGURE, sentence):
        if any(a <= m.start() < b for a, b in taken):
            continue  # the day of "17 Desember 2025"
        if m.group("words"):
            start, end, kind = m.start(), m.end(), "count"
            if not m.group("wscale"):
                nxt = _NEXT_WORD.match(sentence, end)
                if not nxt or nxt.group(1).casefold() in _OPENERS:
                    continue  # "dua" alone says little: a count needs what it counts
                end = nxt.end()
            else:
                nxt = _NEXT_WORD.match(sentence, end)  # "dua juta rupiah": the currency after the scale
                if nxt and re.match(_MONEY_WORD, nxt.group(1)):
                    end = nxt.end()
            if re.search(_MONEY_WORD, sentence[start:end]):
                kind = "money"
            out.append(Span(start, end, sentence[start:end], kind))
            continue
        bare = not (m.group("cur") or m.group("scale") or m.group("unit"))
        if bare and re.fullmatch(_YEAR, m.group("num")):
            continue  # a year is a date
        if bare and re.search(r"[^\W\d_][\w-]*[A-Z0-9][\w-]*\s$|\b[A-Z][\w-]*\s$", sentence[: m.start()]):
            continue  # "Llama 4", "Opus 4": a version belongs to its name
        end = m.end()
        if not (m.group("cur") or m.group("unit")):
            joined = _COMPOUND.match(sentence, end)  # the unit is part of it: "1-gigawatt", not "1"
            nxt = _NEXT_WORD.match(sentence, end)  # what is counted: "80 turbines", "1,3 juta GPU"
            if joined:
                end = joined.end()
            elif nxt and nxt.group(1).casefold() not in _OPENERS and not re.match(_MONTH_OR_DAY, nxt.group(1)):
                end = nxt.end()
        money = bool(m.group("cur") or re.search(_MONEY_WORD, m.group(0)))
        share = not money and bool(re.match(_PERCENT, m.group("unit") or ""))
        kind = "money" if money else "percent" if share else "figure"
        out.append(Span(m.start(), end, sentence[m.start() : end].rstrip(), kind))
    return out


def _names(sentence: str, context: str) -> list[Span]:
    """Names: capitalised runs, without job titles, month names or a word capitalised only to open the sentence."""
    opening = len(sentence) - len(sentence.lstrip(_OPENING_MARKS))
    out = []
    for m in re.finditer(_NAME_RUN, sentence):
        words = [(w.start() + m.start(), w.group()) for w in re.finditer(r"\S+", m.group())]
        keep: list[tuple[int, str]] = []
        titled = bool(re.search(r"(\S+)\s+$", sentence[: m.start()]) and _is_title(sentence[: m.start()].split()[-1]))
        for pos, word in words:
            bare = _POSSESSIVE.sub("", word).casefold().rstrip(".")
            ordinary = pos == opening and _ordinary(word, bare, len(words) == 1, context)
            if bare in _TITLES or re.match(_MONTH_OR_DAY, word) or ordinary:
                if keep:
                    out.extend(_after_title(sentence, keep, context) if titled else [_join(sentence, keep)])
                keep = []
                titled = bare in _TITLES
                continue
            keep.append((pos, word))
        if keep:
            out.extend(_after_title(sentence, keep, context) if titled else [_join(sentence, keep)])
    # a connector left alone at an edge ("de Ferrol") is not part of the name; a word right after a
    # figure is its unit ("640 MW", "2 GWh"), not a name or a place; "Madrid-based" names Madrid
    out = [_place_of_based(s) for s in out]
    return [
        s
        for s in out
        if (s.text[:1].isupper() or any(c.isupper() for c in s.text[1:2]))
        and not (" " not in s.text and re.search(r"\d\s?$", sentence[max(0, s.start - 2) : s.start]))
    ]


_OPENING_MARKS = " \"'“‘(«¿¡"
# "the Madrid-based developer": where the developer is. The place before the suffix is the name.
_BASED = re.compile(r"-(?:based|headquartered)\b", re.IGNORECASE)


def _place_of_based(span: Span) -> Span:
    cut = _BASED.search(span.text)
    return replace(span, end=span.start + cut.start(), text=span.text[: cut.start()]) if cut else span


def _is_title(word: str) -> bool:
    return _POSSESSIVE.sub("", word).casefold().strip(".,") in _TITLES


def _after_title(sentence: str, words: list[tuple[int, str]], context: str) -> list[Span]:
    """ "CEO OpenAI Sam Altman", "CTO Stripe Rahul Patil": after a job title, the organisation and
    then the person (Indonesian word order). The organisation is split off when the passage also
    writes it on its own, not followed by the rest: two names, not one."""
    for cut in range(len(words) - 2, 0, -1):  # the person keeps at least two words
        org = r"\s+".join(re.escape(w) for _, w in words[:cut])
        if re.search(rf"(?<!\w){org}(?!\w)(?!\s+{re.escape(words[cut][1])})", context):
            return [_join(sentence, words[:cut]), _join(sentence, words[cut:])]
    return [_join(sentence, words)]


def _ordinary(word: str, bare: str, alone: bool, context: str) -> bool:
    """A word capitalised only because it opens the sentence: a function word, a word the
    passage also writes in lower case, or, standing alone, one it never capitalises elsewhere."""
    if bare in _OPENERS or re.search(rf"(?<!\w){re.escape(bare)}(?!\w)", context):
        return True
    if not alone:
        return False
    for m in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", context):
        before = context[: m.start()].rstrip(_OPENING_MARKS)
        if before and before[-1] not in ".!?:;—\n":
            return False  # capitalised mid-sentence too: a name
    return True


def _join(sentence: str, words: list[tuple[int, str]]) -> Span:
    while words and words[-1][1].islower():
        words = words[:-1]
    while len(words) > 1 and words[0][1].islower():
        words = words[1:]
    start, end = words[0][0], words[-1][0] + len(_POSSESSIVE.sub("", words[-1][1]) or words[-1][1])
    return Span(start, end, sentence[start:end], "name")


@functools.lru_cache(maxsize=4096)  # search, trust and compose read the same few sentences
def typed_spans(sentence: str, kind: AnswerKind, context: str = "") -> tuple[Span, ...]:
    """Every span of `sentence` that could answer a question of this kind; `context` (the
    passage around it) tells a name from a word capitalised to open the sentence."""
    if kind == "when":
        return tuple(_dates(sentence))
    if kind in ("how_many", "how_much"):
        return tuple(_figures(sentence))
    return tuple(_names(sentence, context or sentence))


def _new_parts(span: Span, question: Question, asked: str) -> list[Span]:
    """What the span adds to the question: "Sam McCandlish" in "Who replaced Sam McCandlish?" adds
    nothing; "Presiden Anthropic Daniela Amodei" adds "Daniela Amodei" to a question naming Anthropic."""
    if span.text.casefold() in asked:
        return []
    if span.kind != "name":
        return [] if any(n in question.numbers for n in _NUMBER.findall(span.text)) else [span]
    known = {n.casefold() for n in question.names}
    parts, run = [], []
    for w in re.finditer(r"\S+", span.text):
        if _said(_POSSESSIVE.sub("", w.group()).casefold().strip(","), known):
            parts.append(run)
            run = []
        else:
            run.append(w)
    parts.append(run)
    out = []
    for run in parts:
        while run and (run[-1].group().islower() or run[-1].group() in (",", "dan", "and", "y")):
            run = run[:-1]
        while run and run[0].group().islower():
            run = run[1:]
        if run:
            a = span.start + run[0].start()
            text = span.text[run[0].start() : run[-1].end()].rstrip(",")
            out.append(Span(a, a + len(text), text, "name"))
    return out


# An organisation asked for ("which insurance company", "perusahaan mana", "qué empresa"): no person answers.
_ORGANISATION_ASKED = (
    rf"(?i)\b(?:which|what)\s+{_BEFORE_ASKED}{{0,2}}(?:compan(?:y|ies)|firms?|organi[sz]ations?|insurers?|manufacturers?|"
    r"suppliers?)\b|\b(?:perusahaan|organisasi|lembaga|produsen|pemasok)\s+(?:[\w-]+\s+)?(?:mana|apa)\b"
    r"|\b(?:qu[eé]|cu[aá]les?)\s+(?:empresas?|compañ[ií]as?|fabricantes?|proveedor(?:es)?|aseguradoras?)\b"
)


def _titled(sentence: str, span: Span, after_organisation: bool = False) -> bool:
    """A job title stands right before the name, perhaps with its organisation ("chief executive Ingrid Solberg",
    "Direktur Utama Rini Hartanto,", "CEO Scale, Alexandr Wang", "Presiden OpenAI Greg Brockman"): a person.
    `after_organisation`: only the last two, where word order tells the person from the organisation (in
    "sebagai CEO Kelinci Emas" the name right after the title is the company's)."""
    words = sentence[max(0, span.start - 80) : span.start].split()[-3:]
    for between, word in enumerate(reversed(words)):  # the organisation's name in between: up to two words
        if between >= after_organisation and _is_title(word.rstrip(",:")):
            return True
        if between == 2 or not re.fullmatch(rf"[{UPPER}][\w&.-]*,?", word):
            return False
    return False


def _is_rate(sentence: str, span: Span) -> bool:
    """The figure is given as a rate: its clause says "per", "por", "setiap" or "/", or "a"/"each"
    follows it ("$20 a month")."""
    a, b = _clause(sentence, span)
    return bool(
        re.search(_RATE_GIVEN, sentence[a:b]) or re.match(r"(?i)\s+(?:a|an|each)\s+[^\W\d_]", sentence[span.end :])
    )


def _counts_what_is_asked(span: Span, question: Question) -> bool:
    """A figure joined to its unit ("15-year", "1-gigawatt") counts that unit only: it answers
    "how many years?", not "how many employees?"."""
    joined = re.match(r"\d[\d.,]*" + _COMPOUND.pattern + "$", span.text)
    return not joined or bool(set(lexical.tokens(joined.group(1))) & set(question.terms))


def _said(word: str, known: set[str]) -> bool:
    """The question says this word, or another form of it (Sweden for "Swedish", Indonesia for
    "Indonesian"): lexical.stem, for long words only."""
    if word in known:
        return True
    return len(word) >= 6 and any((start := lexical.stem(k)) and word.startswith(start) for k in known)


# Kinds of place a where-question may ask for, by the words that name them in English, Indonesian and
# Spanish. A country or region is left out: their names say what they are (places.py), with no such word.
PLACE_KINDS: dict[str, str] = {
    "port": r"ports?|harbou?rs?|pelabuhan|puertos?",
    "city": r"city|cities|towns?|kota|ciudad(?:es)?",
    "province": r"provinces?|provinsi|provincias?",
    "island": r"islands?|pulau|islas?",
}
_PLACE_KIND_ASKED = (
    rf"(?i)\b(?:which|what)\s+{_BEFORE_ASKED}{{{{0,2}}}}?(?:{{kind}})\b|\b(?:{{kind}})\s+(?:mana|apa)\b"
    r"|\b(?:qu[eé]|cu[aá]l)\s+(?:{kind})\b"
)


@functools.lru_cache(maxsize=256)  # read for every sentence of every candidate, as `relations` is
def place_kind(question: Question) -> str | None:
    """The kind of place a where-question asks for ("At which port…?", "Di kota mana…?"), or None."""
    return next(
        (k for k, words in PLACE_KINDS.items() if re.search(_PLACE_KIND_ASKED.format(kind=words), question.text)), None
    )


def _of_place_kind(sentence: str, span: Span, place: str) -> bool:
    """The sentence names the place as one of that kind: the kind's word in the name ("Pelabuhan Ciwandan")
    or right before or after it ("port of Mejillones", "puerto de Ferrol", "the Mejillones port")."""
    words = PLACE_KINDS[place]
    return bool(
        re.search(rf"(?i)\b(?:{words})\b", span.text)
        or re.search(rf"(?i)\b(?:{words})\s+(?:(?:of|de|del|di)\s+)?(?:(?:the|el|la)\s+)?$", sentence[: span.start])
        or re.match(rf"(?i)\s+(?:{words})\b", sentence[span.end :])
    )


_CALLED = r"(?:named|called|dubbed|bernama|llamad[oa])"


def of_thing_kind(sentence: str, span: Span, thing: str) -> bool:
    """The name is written as one of that kind of thing: the kind's word in it, before it ("model 'Behemoth'",
    "model turbin angin Fjordwind", "infografik berjudul “Roda…”", "a unit called X") or after it ("the
    Fjordwind model", "the Nordic Weaver, a vessel", "Zatoka Wind, a 1-gigawatt project"), with at most two
    ordinary words between ("a vessel run by Nordsjø" names the vessel's operator, not the vessel; in "Nordvik
    meluncurkan model Fjordwind" Nordvik launches the model)."""
    words = THING_KINDS[thing]
    if re.search(rf"(?i)\b(?:{words})\b", span.text):
        return True
    before = re.search(
        rf"(?i)\b(?:{words})\s+((?:[\w-]+\s+){{0,2}})(?:{_CALLED}\s+)?[\"'“‘«]?$", sentence[: span.start]
    )
    after = re.match(
        rf"(?i)[\"'”’»]?(?:,\s+(?:a|an|the|its|sebuah|un|una|el|la)\s+((?:[\w-]+\s+){{0,2}})|\s+)(?:{words})\b",
        sentence[span.end :],
    )
    return any(
        m and all(w.islower() and w not in _OPENERS for w in (m.group(1) or "").split()) for m in (before, after)
    )


def answer_spans(sentence: str, question: Question, context: str = "") -> list[Span]:
    """Spans of the type the question wants that it does not already say, best first.

    Best: of the preferred type (money for "how much", a count for "how many", a full
    name for "who", a place after "in"/"di"/"en" for "where"), then nearest to a word
    of the question found in the sentence ("1,3 juta GPU" for "How many GPUs...?").
    """
    kind = answer_kind(question)
    if kind is None:
        return []
    asked = question.text.casefold()
    spans = [part for s in typed_spans(sentence, kind, context) for part in _new_parts(s, question, asked)]
    age = kind == "how_many" and bool(re.search(_AGE_ASKED, question.text))
    if age:
        spans = [s for s in spans if _is_age(sentence, s)]  # "how old" is not answered by "12 boats"
    elif kind == "how_much" and re.search(_MONEY_ASKED, question.text):
        spans = [s for s in spans if s.kind == "money"]  # nor "what is her salary?" by "41", "the cost?" by "30%"
    elif kind == "how_much" and re.search(_MEASURE_ASKED, question.text):
        spans = [s for s in spans if s.kind != "money"]
    elif kind == "how_many" and not re.search(_MONEY_WORD, question.text):
        spans = [s for s in spans if s.kind != "money"]  # "how many GPUs?" counts GPUs, not the $600 billion
    if kind == "how_many":  # "a 1-gigawatt project" measures gigawatts: it counts neither turbines nor staff
        spans = [s for s in spans if _counts_what_is_asked(s, question)]
    if kind == "who" and re.search(_ORGANISATION_ASKED, question.text):
        # "which insurance company?" is not answered by "chief executive Ingrid Solberg": a title makes a person
        spans = [s for s in spans if not _titled(sentence, s)]
    if kind in ("how_many", "how_much") and re.search(_RATE_ASKED, question.text):
        # "per kWh?" is answered by a rate ("9,8 sen per kWh"), not by the project's Rp 2,1 triliun
        spans = [s for s in spans if _is_rate(sentence, s)]
    if kind == "where" and (place := place_kind(question)):
        spans = [s for s in spans if _of_place_kind(sentence, s, place)]  # "which port?": not "Banten"
    if kind in ("who", "where"):
        spans = _lists(sentence, spans)
    if not spans:
        return []

    def found(words, flags=0) -> list[tuple[int, int]]:
        return [
            (m.start(), m.end())
            for w in words
            if len(w) > 1
            for m in re.finditer(rf"(?<!\w){re.escape(w)}", sentence, flags)
        ]

    # a name as a whole name ("Halvorsen" for "Halvorsen Wind", never "Zatoka Wind"); its words are
    # not counted again among the question's other words
    named = _named_at(sentence, question) + found(set(question.numbers))
    name_words = {w.casefold() for n in question.names for w in n.split()}
    terms = [t for t in question.terms if t.casefold() not in name_words]
    # the relation asked, in the words that state it in any language: "co-founder Sam McCandlish"
    # answers "Who founded Anthropic?", though "founded" is not in the sentence; for a role, the
    # name beside it answers before any other ("chief executive Budi Santoso", not the chairwoman)
    stated = [
        (m.span(), r in ROLES) for r in relations(question) for m in re.finditer(RELATIONS[r], sentence, re.IGNORECASE)
    ]
    named += [at for at, _ in stated]
    roles = [at for at, role in stated if role]
    anchors = named + found(terms, re.IGNORECASE)

    def distance(s: Span, near=anchors) -> int:
        if not near:
            return len(sentence)  # nothing of the question here: the first span wins, near nothing
        return min(max(a - s.end, s.start - b, 0) for a, b in near)

    def clause_words(s: Span) -> int:
        """Question words in the span's own clause: "la operación comercial está prevista para 2028"
        answers when commercial operation starts, not "la construcción comenzará en 2026" before it."""
        a, b = _clause(sentence, s, apposition=s.kind == "name")
        return sum(a <= x and y <= b for x, y in anchors)

    thing = thing_kind(question) if kind == "who" else None

    def preference(s: Span) -> int:
        if kind == "how_much":
            return 0 if s.kind in ("money", "percent") else 1
        if kind == "how_many":
            if age:
                return 0 if _is_age(sentence, s) else 1
            return 0 if s.kind in ("figure", "count") else 1
        if kind == "who" and thing:  # any name is a name: one written as the thing asked names it
            return 0 if of_thing_kind(sentence, s, thing) else 1
        if kind == "who":
            acronym = s.text.replace(".", "").isupper() and " " not in s.text
            return 0 if " " in s.text else 2 if acronym else 1
        if kind == "where":
            placed = re.search(_PLACE_BEFORE, sentence[: s.start]) or _BASED.match(sentence, s.end)
            return 0 if placed else 1
        if kind == "when":  # "the company said on Tuesday": a weekday alone is the day of the report
            return 1 if re.fullmatch(_WEEKDAYS, s.text, re.IGNORECASE) else 0
        return 0

    def near(s: Span) -> float:
        """Next to a name or figure of the question; or only to one of its other words, which
        counts as much when the sentence names none of them."""
        if distance(s, named) <= _NEAR:
            return 0.35
        return 0.35 if not named and distance(s) <= _NEAR else 0.2 if distance(s) <= _NEAR else 0.0

    def beside_role(s: Span) -> bool:
        """Right after the role ("chief executive Budi Santoso"), or before it as its holder ("Budi Santoso, CEO");
        not the organisation between a role and its holder ("CFO Kelinci Emas Budi Santoso": Kelinci Emas's CFO)."""
        if any(o.start > s.end and sentence[s.end : o.start].isspace() for o in spans):
            return False
        return any(
            (s.start >= b and re.fullmatch(r"[\s,:]*", sentence[b : s.start]))
            or (s.end <= a and re.fullmatch(_BEFORE_ROLE, sentence[s.end : a], re.IGNORECASE))
            for a, b in roles
        )

    # a person asked ("Who did Meta hire?"): a name after a job title is one ("CEO Scale, Alexandr Wang")
    person = kind == "who" and not thing and not re.search(_ORGANISATION_ASKED, question.text)

    def titled(s: Span) -> bool:
        return person and _titled(sentence, s, after_organisation=True)

    ranked = sorted(
        spans, key=lambda s: (preference(s), not beside_role(s), not titled(s), -clause_words(s), distance(s), s.start)
    )
    return [replace(s, fit=0.25 + 0.4 * (preference(s) == 0) + near(s)) for s in ranked]


_BEFORE_ROLE = r"\s*,?\s*(?:(?:the|its|their|a|sang|selaku|sebagai|as|como|el|la|su)\s+)?"
_CLAUSE_BREAK = re.compile(r"[;:—–]|,\s|\s(?:and|but|while|whereas|dan|tetapi|namun|sedangkan|y|pero|mientras)\s")


def _clause(sentence: str, span: Span, apposition: bool = False) -> tuple[int, int]:
    """Offsets of the clause around the span: from the last break before it to the first after it; with
    `apposition`, a name that is a clause of its own between commas ("merekrut CEO Scale, Alexandr Wang,
    untuk memimpin unit baru…") is read in the clauses on both sides of it."""
    starts = [m.end() for m in _CLAUSE_BREAK.finditer(sentence, 0, span.start)]
    after = [m.start() for m in _CLAUSE_BREAK.finditer(sentence, span.end)]
    a, b = (starts[-1] if starts else 0), (after[0] if after else len(sentence))
    if apposition and sentence[a:b].strip() == span.text and sentence[:a].endswith(", ") and sentence[b : b + 1] == ",":
        a, b = (starts[-2] if len(starts) > 1 else 0), (after[1] if len(after) > 1 else len(sentence))
    return a, b


# An age asked ("how old", "berapa umurnya", "¿qué edad?") and given ("Marsh, 41,", "berusia 35 tahun", "aged 63").
_AGE_ASKED = r"(?i)\bhow old\b|\bage\b|\bumur|\busia\b|\busianya\b|\bedad\b"
# A sum of money asked for: the price, cost, salary, revenue, profit, funding or valuation of something.
_MONEY_ASKED = (
    r"(?i)\b(?:cost|costs|costing|price[sd]?|pay|paid|pays|spend|spent|spending|invest(?:ed|ing|s|ment)?|salary|"
    r"salaries|wages?|revenues?|profits?|earn(?:ed|s|ings)?|fees?|fines?|fined|raised?|raising|worth|valuation|"
    r"valued|budget|funding|tariffs?|harga|tarif|biaya|gaji|upah|laba|pendapatan|dana|investasi|berinvestasi|valuasi|rugi|kerugian|"
    r"modal|bayar|membayar|dibayar|precio|coste|costo|costar[áa]|salario|beneficios?|ingresos|inversi[óo]n|"
    r"valoraci[óo]n|pag[óa]|pagar|tarifas?|loss|losses|p[ée]rdidas?)\b"
)
# A measure asked that no sum of money gives: a plant's capacity is not its A$1.1 billion cost.
_MEASURE_ASKED = (
    r"(?i)\b(?:capacity|capacities|output|production|size|area|length|distance|weight|volume|kapasitas|produksi|"
    r"luas|panjang|jarak|berat|ukuran|capacidad|producci[óo]n|tamaño|superficie|longitud|distancia|peso)\b"
)
_AGE_BEFORE = r"(?i)(?:\b(?:aged|age of|berusia|berumur|usia|umur|de)\s+|[A-Z][\w'’-]+,\s)$"
_AGE_AFTER = r"(?i)^(?:\s+(?:years?|tahun|años)\b|,)"


def _is_age(sentence: str, span: Span) -> bool:
    """A count of years told as an age: after "aged" / "berusia" or set off by commas after a name."""
    number = re.match(r"\d+", span.text)
    if not number or len(number.group()) > 3:
        return False
    end = span.start + number.end()
    return bool(re.search(_AGE_BEFORE, sentence[: span.start])) and bool(re.match(_AGE_AFTER, sentence[end:]))


_NEAR = 20  # characters: a figure, date or name this close to a word of the question is about it


def _lists(sentence: str, spans: list[Span]) -> list[Span]:
    """Names joined by commas ending in "and"/"dan"/"y" are one answer: "OpenAI, Google, dan Microsoft"."""
    chains: list[list[Span]] = []
    for s in spans:
        if chains and re.fullmatch(_LIST_GAP, sentence[chains[-1][-1].end : s.start]):
            chains[-1].append(s)
        else:
            chains.append([s])
    out = []
    for chain in chains:
        while len(chain) > 1 and not re.search(_CONJUNCTION, sentence[chain[-2].end : chain[-1].start]):
            out.append(chain.pop(0))  # an apposition ("CEO Scale, Alexandr Wang"), not a list
        first, last = chain[0], chain[-1]
        out.append(Span(first.start, last.end, sentence[first.start : last.end], "name"))
    return out


_CURRENCY_AFTER = re.compile(
    r"\s+(?:dolar|dollars?|d[oó]lares|euros?|rupiah)(?:\s+(?:AS|US|Singapura|Australia|Kanada|Hong Kong))?\b"
)
_RATE_AFTER = re.compile(r"(?i)\s+(?:per|por|setiap|a|an|each)\s+[^\W\d_][\w-]*")


def whole_answer(sentence: str, span: Span) -> str:
    """The short answer as a reader needs it, still a span of the sentence: a sum with the currency
    that follows it and, when it is a rate, what it is per ("9,8 sen dolar AS per kWh", not "9,8 sen";
    "$2,800 per kilowatt", not "$2,800")."""
    if span.kind != "money":
        return span.text
    end = span.end
    if currency := _CURRENCY_AFTER.match(sentence, end):
        end = currency.end()
    if rate := _RATE_AFTER.match(sentence, end):
        end = rate.end()
    return sentence[span.start : end]


def answer_span(sentence: str, question: Question, context: str = "") -> Span | None:
    """The short answer in `sentence`: a verbatim span of the type the question wants, or None."""
    spans = answer_spans(sentence, question, context)
    return spans[0] if spans else None


# --- What the question asks about an entity, and whether a text says it about that entity ---
#
# "Siapa CEO Google?" asks one relation (CEO) of one entity (Google). A passage that never
# states the relation (no "CEO", "chief executive", "direktur utama" anywhere in it) cannot
# answer, however close it is; one that states it only for another entity ("CEO OpenAI Sam
# Altman", "former Stripe CTO") does not either. Each relation is a pattern of the words that
# state it in English, Indonesian and Spanish; a question names it with the same words.

RELATIONS: dict[str, str] = {
    "ceo": r"\bCEO\b|chief executive|direktur utama|presiden direktur|consejer[oa] delegad[oa]|director ejecutivo",
    "cto": r"\bCTO\b|chief (?:technology|technical) officer|direktur teknologi|director de tecnolog[ií]a",
    "cfo": r"\bCFO\b|chief financial officer|finance director|direktur keuangan|director financier[oa]",
    "founder": r"\bfound(?:ed|er|ers|ing)\b|co-?founder|pendiri|didirikan|mendirikan|fundador|fund[oó]\b|fundad[oa]",
    "minister": r"\bminist(?:ers?|ro|ra)\b|\bmenteri\b",
    "president": r"\bpresident(?:e|a)?\b|\bpresiden\b",
    "captain": r"\bcaptain|kapten|capit[aá]n",
    "revenue": r"\brevenues?\b|\bsales\b|turnover|pendapatan|penjualan|\bingresos\b|\bventas\b",
    "profit": r"\bprofits?\b|net income|\bearnings\b|\blaba\b|beneficio|ganancia",
    "employees": r"\bemploy(?:ees?|s|ed)?\b|\bstaff\b|workforce|headcount|\bworkers\b|karyawan|pegawai|"
    r"mempekerjakan|\bpekerja\b|tenaga kerja|emplea(?:dos?|n)\b|trabajadores|plantilla",
    "headquarters": r"headquarter|\w-based\b|\bbased in\b|kantor pusat|berkantor|bermarkas|berbasis di|\bsede\b",
    "share_price": r"share price|stock price|per share|harga saham|per saham|precio de (?:la|las) acci[oó]n|cotiza",
    "net_worth": r"net worth|fortune|kekayaan|\bharta\b|patrimonio",
    "spouse": r"\bwife\b|husband|spouse|married|\biste?ri\b|\bsuami\b|esposa|marido",
    "education": r"universit|college|graduat|kuliah|lulusan|alumn|universidad|studied",
    "lender": r"\bbanks?\b|\blend|\bloans?\b|pinjaman|kredit|\bbancos?\b|pr[eé]stamo",
    "maker": r"manufactur|supplier|suppl(?:y|ied|ies)\b|\bmade by\b|produsen|pemasok|fabricante|suministr|proveedor",
    "listing": r"\bIPO\b|go public|listing|melantai|\bbursa\b|salida a bolsa",
    "funding": r"funding|\brais(?:e[ds]?|ing)\b|pendanaan|penggalangan dana|financiaci[oó]n",
    "exchange_rate": r"exchange rate|\bkurs\b|tipo de cambio",
    "production": r"\bproduc(?:e|es|ed|ing|tion)\b|berproduksi|produksi|\bproducci[oó]n|producir",
}
# How a question names a relation, where the statement's words are too broad to ask by
# ("based" in a question, "shares" or "raised" alone): the relation's own pattern otherwise.
_ASKED_AS: dict[str, str] = {
    "headquarters": r"headquarter|kantor pusat|\bsede\b|\bbased\b",
    "share_price": r"share price|stock price|harga saham|precio de la acci[oó]n",
    "funding": r"funding round|\braised?\b.*\b(?:round|funding|capital)\b|putaran pendanaan|ronda de financiaci",
    "production": r"\bstart(?:s|ed)? produc|mulai (?:ber)?produksi|comenzar[aá] a producir",
}
# Relations that are a role one entity holds in another: stated for the wrong one when the
# role word sits beside another name ("CEO OpenAI Sam Altman", "Stripe CTO", "CEO of Stripe").
ROLES = frozenset({"ceo", "cto", "cfo", "founder", "minister", "president", "captain"})
_WHY = re.compile(r"^\W*(?:why|mengapa|kenapa|por ?qu[eé])\b", re.IGNORECASE)
# Words between a role and the name it belongs to that are not names themselves.
_ROLE_FILLERS = frozenset("former mantan ex new baru then kini now".split())


@functools.lru_cache(maxsize=256)  # search reads it for each candidate passage, trust again
def relations(question: Question) -> tuple[str, ...]:
    """The relations the question asks about (RELATIONS keys); none for a why-question, which
    asks for an explanation in which these words are only context."""
    if _WHY.search(question.text):
        return ()
    return named_relations(question)


def named_relations(question: Question) -> tuple[str, ...]:
    """The relations the question's words name, whatever it asks: "Why did the president of X
    resign?" names X's president."""
    return tuple(r for r, p in RELATIONS.items() if re.search(_ASKED_AS.get(r, p), question.text, re.IGNORECASE))


def states(relation: str, text: str) -> bool:
    return bool(re.search(RELATIONS[relation], text, re.IGNORECASE))


@functools.lru_cache(maxsize=256)  # read for every sentence of every candidate, as `relations` is
def entity(question: Question) -> tuple[str, ...]:
    """The names the question asks about: its names without the words of the relation (CEO, CTO)."""
    return tuple(n for n in question.names if not _is_title(n) and not names_relation(n))


@functools.lru_cache(maxsize=4096)
def names_relation(word: str) -> bool:
    """A capitalised word that is the name of a relation (CEO, CFO, IPO), not of something in the news."""
    return any(re.fullmatch(p, word, re.IGNORECASE) for p in RELATIONS.values())


def role_holder(sentence: str, start: int, end: int) -> str | None:
    """The name a role word at sentence[start:end] is tied to, if one stands beside it: "Stripe"
    in "former Stripe CTO", "OpenAI" in "CEO OpenAI Sam Altman" (organisation, then person) and in
    "CEO of OpenAI". None when the role stands alone, after "as" / "sebagai" (the role a person
    takes), or only a person follows ("CFO Lars Øvrebø")."""
    before = re.findall(r"(?:^|\s)([\w'’&.-]+)$", sentence[:start].rstrip())
    while before and before[0].casefold() in _ROLE_FILLERS:
        before = re.findall(r"(?:^|\s)([\w'’&.-]+)$", sentence[: sentence.rindex(before[0], 0, start)].rstrip())
    word = _POSSESSIVE.sub("", before[0]) if before else ""
    if word[:1].isupper() and not _is_title(word) and word.casefold() not in _OPENERS:
        return word
    of = re.match(rf"\s+(?:of|at|de|del|di)\s+([^\W\d_]*[{UPPER}][\w&.-]*)", sentence[end:])
    if of:
        return of.group(1)
    run = re.match(rf"(?:\s+[^\W\d_]*[{UPPER}][\w'’&.-]*)+", sentence[end:])
    words = run.group().split() if run else []
    return words[0] if len(words) >= 3 else None  # "CEO OpenAI Sam Altman": the first of three names


def _runs(text: str) -> list[set[str]]:
    """The words of each name in `text`, without titles and words capitalised to open a sentence ("As Patil")."""
    runs = ({_POSSESSIVE.sub("", w).casefold() for w in m.group().split()} for m in re.finditer(_NAME_RUN, text))
    return [run for run in ({w for w in run if w not in _OPENERS and w not in _TITLES} for run in runs) if run]


def mentions_subject(question: Question, text: str) -> bool:
    """Whether `text` names what the question asks about (when it names anything): one of its names
    whole, inside a longer name, or by a part standing alone ("McCandlish" for "Sam McCandlish",
    "Halvorsen" for "Halvorsen Wind"), never a name that only shares a word with it ("Sam Altman",
    "Zatoka Wind"). Job titles and relation words (CEO, CFO) are not what it asks about."""
    asked = _asked_runs(question)
    if asked is None:
        return True
    return any(_same_name(run, asked) for run in _runs(text))


@functools.lru_cache(maxsize=256)
def _asked_runs(question: Question) -> tuple[frozenset[str], ...] | None:
    """The words of each name the question asks about, as it writes them together; None when it names nothing."""
    own = {w.casefold() for n in entity(question) for w in n.split()}
    if not own:
        return None
    asked = [run & own for said in (question.text, *question.context) for run in _runs(said)]  # "And how old is she?"
    return tuple(frozenset(run) for run in asked if run)


@functools.lru_cache(maxsize=256)
def entity_runs(question: Question) -> tuple[frozenset[str], ...]:
    """The words of each name the question asks about, as it writes them together ("rahul", "patil"),
    less the names of months and weekdays ("July" is "Juli" in another language: a date, not a name).
    Cached: read for every passage a question is checked against."""
    runs = (
        frozenset(w for w in run if not re.fullmatch(_MONTH_OR_DAY, w, re.IGNORECASE))
        for run in _asked_runs(question) or []
    )
    return tuple(run for run in runs if run)


def names_run(run: frozenset[str], text: str) -> bool:
    """`text` names this name of a question as `mentions_subject` reads one: whole, inside a longer
    name, or by a part standing alone ("Patil" for "Rahul Patil")."""
    return any(_same_name(r, [run]) for r in _runs(text))


def _same_name(run: AbstractSet[str], asked: Iterable[AbstractSet[str]]) -> bool:
    return any(run <= q or q <= run for q in asked)


def _named_at(sentence: str, question: Question) -> list[tuple[int, int]]:
    """Where the sentence names what the question names, read as `mentions_subject` reads a name:
    "Halvorsen" for "Halvorsen Wind", never "Zatoka Wind"."""
    asked = _asked_runs(question) or []
    return [m.span() for m in re.finditer(_NAME_RUN, sentence) if any(_same_name(r, asked) for r in _runs(m.group()))]


def _skeleton(word: str) -> str:
    """The spelling a borrowed word keeps across languages: no accents, c and qu as k, ph as f, y as i,
    no doubled letters ("tariff" and "tarif", "local" and "lokal", "construction" and "konstruksi")."""
    w = "".join(c for c in unicodedata.normalize("NFKD", word.casefold()) if not unicodedata.combining(c))
    w = w.replace("ph", "f").replace("qu", "k").replace("ch", "k").replace("c", "k").replace("y", "i")
    return re.sub(r"(.)\1+", r"\1", w)


def cognate(a: str, b: str) -> bool:
    """Two words spelled alike across languages: their skeletons share a start of at least five letters
    and four fifths of the shorter one ("electricity" and "electricidad"; not "contract" and "control")."""
    x, y = _skeleton(a), _skeleton(b)
    n = sum(1 for _ in itertools.takewhile(lambda pair: pair[0] == pair[1], zip(x, y, strict=False)))
    return x == y or (n >= 5 and n >= 0.8 * min(len(x), len(y)))


# Words that say what kind of answer is wanted, not what about: "Which insurance company…?" is not
# answered by the name beside "the company said", nor "How many…?" by a figure beside "many".
_KIND_WORDS = frozenset(
    "company companies firm firms organisation organization person people executive perusahaan organisasi lembaga "
    "pihak orang empresa empresas compañía compañías persona personas many much".split()
)
_RATE_UNIT = re.compile(r"(?i)\b(?:per|por|setiap|tiap)\s+([^\W\d_][\w-]*)")


def asked_words(question: Question) -> set[str]:
    """The question's words for what it asks, not for what it asks about: "electricity tariff" in "What
    electricity tariff was agreed for the Selat Sunda wind farm?", not its names nor the words that go
    with them ("wind farm"), nor a word for the kind of answer ("company"); and the unit of a rate
    asked ("per MWh")."""
    own = {w.casefold() for n in entity(question) for w in n.split()}
    words, after_name = set(), False
    for m in _WORD.finditer(question.text):
        word = m.group().casefold()
        if word in own:
            after_name = True
            continue
        token = lexical.tokens(word)
        if not token or word in _QUESTION_WORDS:
            after_name = False
            continue
        # three letters or fewer: function words of languages without a stopword list here ("del", "por")
        if not after_name and len(token[0]) >= 4 and word not in _KIND_WORDS:
            words.add(token[0])
    words |= {m.group(1).casefold() for m in _RATE_UNIT.finditer(question.text)}
    return words


_COUNTED = 3  # words after a count that say what it counts ("2.500 tenaga kerja lokal")
# Units of time are the same in any archive, but not spelled alike across languages: "lebih dari 20
# tahun" counts the years asked in "How many years of experience…?".
_TIME_UNITS = {
    word: unit
    for unit, words in {
        "year": "year years tahun año años",
        "month": "month months bulan mes meses",
        "week": "week weeks minggu pekan semana semanas",
        "day": "day days hari día días",
        "hour": "hour hours jam hora horas",
        "minute": "minute minutes menit minuto minutos",
    }.items()
    for word in words.split()
}


def beside_asked(sentence: str, span: Span, question: Question) -> bool:
    """A word of what the question asks (asked_words) stands within _NEAR characters of the span,
    outside it, as written or spelled alike in another language ("tarif 9,8 sen" for "What electricity
    tariff…?"; not "The Selat Sunda project, at $3.4 billion", the project's cost)."""
    asked = asked_words(question)
    units = {_TIME_UNITS[w] for w in map(str.casefold, _WORD.findall(question.text)) if w in _TIME_UNITS}
    words = list(_WORD.finditer(sentence))
    after = [m for m in words if m.start() >= span.end]
    for m in words:
        if _TIME_UNITS.get(m.group().casefold()) in units and m in after[:1] + [
            w for w in words if w.start() < span.end and span.start < w.end()
        ]:
            return True  # the unit asked, in the span or right after it, in any language: "20 tahun"
        if m.start() < span.end and span.start < m.end():
            continue
        if max(m.start() - span.end, span.start - m.end(), 0) > _NEAR:
            continue
        if span.kind in ("figure", "count") and m in after[_COUNTED:]:
            continue  # "300 empleos, … la eólica": a count counts the words right after it
        word = lexical.tokens(m.group())
        if word and any(word[0] == w or (len(w) >= 5 and cognate(word[0], w)) for w in asked):
            return True
    return False


def role_tied(question: Question, relation: str, sentence: str) -> bool:
    """Whether the sentence ties the role to one of the question's names ("Presiden OpenAI Greg Brockman",
    "OpenAI's president"), not merely names both."""
    words = {w.casefold() for n in entity(question) for w in n.split()}
    return any(
        (h := role_holder(sentence, m.start(), m.end())) is not None and h.casefold() in words
        for m in re.finditer(RELATIONS[relation], sentence, re.IGNORECASE)
    )


def role_alone(relation: str, sentence: str) -> bool:
    """The sentence states the role and ties it to no name: "chief financial officer Lars Øvrebø said"."""
    mentions = list(re.finditer(RELATIONS[relation], sentence, re.IGNORECASE))
    return bool(mentions) and all(role_holder(sentence, m.start(), m.end()) is None for m in mentions)


def stated_near(relation: str, sentence: str, question: Question) -> bool:
    """The relation is stated within _NEAR characters of a name of the question: "Ventos del Sur, the Madrid-based"."""
    at = _named_at(sentence, question)
    return any(
        max(a - m.end(), m.start() - b, 0) <= _NEAR
        for m in re.finditer(RELATIONS[relation], sentence, re.IGNORECASE)
        for a, b in at
    )


def role_is_about(question: Question, relation: str, sentence: str, passage: str) -> bool | None:
    """Whether the sentence states the role for the question's entity: a mention tied to one of
    its names, or one standing alone ("as its new chief technical officer") in a sentence that names
    the entity, or in a passage that names it when the sentence ties the role to no other name.
    None when the sentence does not state the role at all (then the passage's other sentences may)."""
    mentions = list(re.finditer(RELATIONS[relation], sentence, re.IGNORECASE))
    if not mentions:
        return None
    own = entity(question)
    words = {w.casefold() for n in own for w in n.split()}
    holders = [role_holder(sentence, m.start(), m.end()) for m in mentions]
    if any(h is not None and h.casefold() in words for h in holders):
        return True
    if None not in holders:
        return False
    named = [n for n in own if n in sentence] or (all(h is None for h in holders) and [n for n in own if n in passage])
    return bool(named)
