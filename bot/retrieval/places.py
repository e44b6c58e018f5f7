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


@functools.cache
def _table() -> tuple[re.Pattern, dict[str, tuple[str, ...]]]:
    """A pattern finding any place name, and each name (casefolded) -> every name of that place."""
    from babel import Locale

    by_code: dict[str, set[str]] = {}
    for language in LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if not re.search(r"[()\d]", name):  # "Congo (DRC)" and the like: not how a question writes it
                by_code.setdefault(code, set()).add(name)
    names: dict[str, tuple[str, ...]] = {}
    for forms in by_code.values():
        for form in forms:
            names[form.casefold()] = tuple(sorted(forms))
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE), names


def places(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each place the text names, as written, with its names in every language of LANGUAGES."""
    pattern, names = _table()
    return [(m.group(), names[m.group().casefold()]) for m in pattern.finditer(text)]
