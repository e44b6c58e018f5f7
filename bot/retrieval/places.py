"""Place names across languages: "Sudeste Asiático" is "Southeast Asia" is "Asia Tenggara".

Names keep their form across languages (trust.py relies on it), except the names of countries
and regions, which each language writes its own way. CLDR's names for them (through babel),
in the languages below, tell which of a question's words name a place that an article may
write otherwise. Loaded on first use: a question whose names the archive all knows never
needs them.
"""

from __future__ import annotations

import functools
import re

# The bot's own languages and those of the nearest neighbours in news: more cost a few ms each, once.
LANGUAGES = ("en", "id", "ms", "es", "pt", "fr", "de", "it", "nl")
# Languages whose news abbreviates a place of several words by its initials ("US", "UAE"; "AS" for
# Amerika Serikat). Spanish writes "EE. UU.", so its initials ("EU" for Estados Unidos) would only
# collide with other places. Two places with the same initials ("AS": also Afrika Selatan) both count.
INITIALS = ("en", "id", "ms")


@functools.cache
def _table() -> tuple[re.Pattern, re.Pattern, dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """A pattern finding any place name, one finding an abbreviation of one, and each name (casefolded),
    and each abbreviation (without its dots) -> every name and abbreviation of that place (of those places)."""
    from babel import Locale

    by_code: dict[str, set[str]] = {}
    initials: dict[str, set[str]] = {}
    for language in LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if not re.search(r"[()\d]", name):  # "Congo (DRC)" and the like: not how a question writes it
                by_code.setdefault(code, set()).add(name)
                if language in INITIALS and (short := _initials(name)):
                    initials.setdefault(code, set()).add(short)
    names: dict[str, tuple[str, ...]] = {}
    abbreviated: dict[str, set[str]] = {}
    for code, forms in by_code.items():
        own = initials.get(code, set())
        everything = {*forms, *own, *(".".join(a) + "." for a in own)}
        for form in forms:
            names[form.casefold()] = tuple(sorted(everything))
        for a in own:
            abbreviated.setdefault(a, set()).update(everything)
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    dotted = "|".join(r"\.?".join(a) + r"\.?" for a in sorted(abbreviated, key=len, reverse=True))
    return (
        re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE),
        re.compile(rf"(?<![\w.])(?:{dotted})(?!\.?\w)"),  # as written, in capitals: "US", "U.S.", "A.S."
        names,
        {a: tuple(sorted(forms)) for a, forms in abbreviated.items()},
    )


def _initials(name: str) -> str:
    """ "United States" -> "US", "Amerika Serikat" -> "AS": how news writes a place of several words."""
    words = name.split()
    return "".join(w[0] for w in words) if len(words) > 1 and all(w[0].isupper() for w in words) else ""


def places(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each place the text names, as written, with its names and abbreviations in every language of LANGUAGES."""
    pattern, abbreviation, names, abbreviations = _table()
    found = [(m.start(), m.group(), names[m.group().casefold()]) for m in pattern.finditer(text)]
    found += [(m.start(), m.group(), abbreviations[m.group().replace(".", "")]) for m in abbreviation.finditer(text)]
    return [(written, forms) for _, written, forms in sorted(found)]
