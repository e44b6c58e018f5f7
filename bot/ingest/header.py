"""Front matter: the small header a `.txt` or `.md` article may start with.

The format is YAML between two lines of three dashes, at the very top of the file::

    ---
    title: Anthropic names Stripe's former CTO as its new CTO
    url: https://techcrunch.com/2025/10/02/anthropic-hires-new-cto/
    site: techcrunch.com
    published: 2025-10-02
    lang: en
    ---
    The article text, one paragraph a line.

Every key is optional. `title` is the headline; `url` the article's link (http or https only);
`site` the publisher or site name; `published` an ISO 8601 date (`2025-10-02`) or date-time
(`2025-10-02T14:30:00+07:00`); `lang` an ISO 639-1 code (`en`, `id`; without it, indexing detects
the language from the text: retrieval/languages.py). Other keys are ignored.
A value that cannot be used (a link that is not http(s), a date that is not a date) is dropped
and reported, never fatal. A file that does not start with such a header is read exactly as
before: all of it is the article. Under a header, Windows line ends (CRLF) are read as "\n".
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

KEYS = ("title", "url", "site", "published", "lang")
_LANG = re.compile(r"^[a-z]{2,3}$")
_YAML = YAMLHandler()


def read(text: str) -> tuple[dict, str]:
    """The known header values and the body; `({}, text)` when the file has no header."""
    meta, body, _ = read_with_problems(text)
    return meta, body


def read_with_problems(text: str) -> tuple[dict, str, list[str]]:
    """As `read`, plus one line per dropped value, for the loader to log."""
    if not _YAML.detect(text.lstrip("\ufeff")):
        return {}, text, []
    try:
        raw, body = frontmatter.parse(text.lstrip("\ufeff"), handler=_YAML)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError) as exc:
        raw, body = _plain_lines(text.lstrip("\ufeff"))
        if raw is None:
            return {}, text, [f"the header is not valid YAML, so the whole file is read as text ({_first_line(exc)})"]
    if not isinstance(raw, dict) or not any(k in raw for k in KEYS):
        return {}, text, []  # dashes that open a text, not a header of ours
    meta, problems = {}, []
    for key in KEYS:
        value = raw.get(key)
        if value is None or value == "":
            continue
        clean, problem = _CLEAN[key](value)
        if problem:
            problems.append(f"{key}: {problem}; the value is ignored")
        elif clean:
            meta[key] = clean
    return meta, body, problems


def write(meta: dict, body: str) -> str:
    """The file text for an article: the header (known keys with a value, in a fixed order) then the body."""
    values = {k: str(meta[k]) for k in KEYS if meta.get(k) not in (None, "")}
    if not values:
        return body if body.endswith("\n") else body + "\n"
    header = yaml.safe_dump(values, allow_unicode=True, sort_keys=False, width=10_000).strip()
    return f"---\n{header}\n---\n{body.strip()}\n"


def _text(value) -> tuple[str | None, str | None]:
    if isinstance(value, (dict, list)):
        return None, f"expected text, got {type(value).__name__}"
    return " ".join(str(value).split()) or None, None


def _url(value) -> tuple[str | None, str | None]:
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
        return None, f"{text!r} is not an http(s) link"
    return text, None


def language_code(value) -> str | None:
    """The ISO 639 code of a language tag ("en-GB", "pt_BR", "id"), or None when it is not one."""
    code = str(value).strip().lower().replace("_", "-").split("-")[0]
    return code if _LANG.match(code) else None


def _lang(value) -> tuple[str | None, str | None]:
    code = language_code(value)
    return (code, None) if code else (None, f"{value!r} is not a language code like en or id")


def _published(value) -> tuple[str | None, str | None]:
    """YAML reads `2025-10-02` as a date already; strings are parsed as ISO 8601."""
    if isinstance(value, dt.datetime):
        return value.isoformat(), None
    if isinstance(value, dt.date):
        return value.isoformat(), None
    text = str(value).strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).isoformat(), None
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat(), None
    except ValueError:
        return None, f"{text!r} is not a date like 2025-10-02"


_CLEAN = {"title": _text, "site": _text, "url": _url, "lang": _lang, "published": _published}


def _plain_lines(text: str) -> tuple[dict | None, str]:
    """People write `title: Anthropic: the new CTO` unquoted, which YAML refuses: read `key: value` lines as such."""
    match = _YAML.FM_BOUNDARY.match(text)
    end = _YAML.FM_BOUNDARY.search(text, match.end()) if match else None
    if not end:
        return None, text
    raw = {}
    for line in text[match.end() : end.start()].splitlines():
        key, sep, value = line.partition(":")
        if not line.strip():
            continue
        if not sep or not re.fullmatch(r"[A-Za-z_][\w-]*", key.strip()):
            return None, text
        raw[key.strip()] = value.strip().strip("'\"")
    return raw, text[end.end() :].strip()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
