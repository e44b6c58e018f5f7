"""What a question asks for: its language, its kind, and the words any answer must be about.

Declining, highlighting and the short answer all start from here. The rules read the
question words of English and Indonesian (the languages the bot answers in); a question
in another language still gets its names, figures and terms, and kind "what".

Names and figures are what a fact keeps across languages: "Meta" and "1,3 juta" are the
same in an English question and an Indonesian article, while "employees" is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
        ("why", r"\bwhy\b|\bmengapa\b|\bkenapa\b|\bfor what reason\b"),
        (
            "how_many",
            r"\bhow many\b|\bhow old\b|\bberapa (banyak|jumlah|orang|unit|buah|kali|umur|usia|lama)\b"
            r"|\b(jumlah|umur|usia)\b.*\bberapa\b",
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
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# A name: a word with a capital after its first letter (OpenAI, iPhone) or any capitalised
# word that is not the question's first word; an acronym (GPU, CTO) counts too.
_NAME = re.compile(r"\b[^\W\d_]*[A-Z][\w.&-]*[\w&]|\b[A-Z]\b")
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
        if first and word[1:].islower() and word.casefold() in (_EN_WORDS | _ID_WORDS | {"berapa", "how"}):
            continue  # "Who", "Siapa", "Berapa": a question word, not a name
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
