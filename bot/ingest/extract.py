"""Article text and metadata from a web page, with trafilatura (favouring precision over recall)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html
import trafilatura

from bot.core import messages
from bot.core.errors import NewsbotError
from bot.ingest.header import language_code

MIN_CHARS = 300  # less than this is a teaser, a login form or a list of links, not an article
# "Read more: <a>another story</a>" paragraphs that news sites put between an article's paragraphs:
# a short paragraph that is mostly one link is a pointer to another page, not part of this one.
LINK_PARAGRAPHS = (
    "//p[count(.//a) = 1 and string-length(normalize-space(.)) < 160"
    " and 2 * string-length(normalize-space(string(.//a))) > string-length(normalize-space(.))]"
)


@dataclass(frozen=True)
class Extracted:
    title: str
    text: str  # one paragraph a line, without the headline
    url: str | None  # the page's canonical link when it gives one, else the link it was fetched from
    site: str | None  # the site's name, else its host
    published: str | None  # ISO 8601 date
    lang: str | None  # ISO 639-1 code


class NotAnArticle(NewsbotError):
    """The page has no article body; `reason` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def extract_page(html: str, url: str | None = None) -> Extracted:
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        favor_precision=True,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        prune_xpath=LINK_PARAGRAPHS,
    )
    if doc is None or not (doc.text or "").strip():
        raise NotAnArticle(messages.NOT_AN_ARTICLE_EMPTY)
    tree = _tree(html)
    title = " ".join((doc.title or "").split())
    lines = [" ".join(line.split()) for line in doc.text.splitlines()]
    lines = [line for line in lines if line]
    if lines and title and lines[0].casefold() == title.casefold():
        lines = lines[1:]  # the headline is the title, not the first paragraph
    text = "\n".join(lines)
    if len(text) < MIN_CHARS:
        raise NotAnArticle(messages.NOT_AN_ARTICLE_SHORT.format(chars=len(text), minimum=MIN_CHARS))
    link = _http(urljoin(url or "", doc.url)) if doc.url else None
    link = link or _http(url)
    host = urlsplit(link).hostname if link else None
    site = " ".join((doc.sitename or "").split()) or (host.removeprefix("www.") if host else None)
    published = doc.date or _json_ld_date(tree)
    return Extracted(title or (lines[0][:120] if lines else ""), text, link, site, published, _lang(tree))


def _tree(html: str):
    try:
        return lxml.html.fromstring(html.encode("utf-8", "replace"))
    except (ValueError, lxml.etree.ParserError):
        return None


def _http(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _json_ld(tree) -> list[dict]:
    """The page's schema.org objects, flattened out of lists and @graph."""
    found, stack = [], []
    for script in tree.xpath('//script[@type="application/ld+json"]') if tree is not None else []:
        try:
            stack.append(json.loads(script.text or ""))
        except ValueError:
            continue
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            found.append(item)
            stack.extend(v for k, v in item.items() if k == "@graph")
    return found


def _json_ld_date(tree) -> str | None:
    """The publisher's own `datePublished` when trafilatura's date search finds none."""
    for item in _json_ld(tree):
        value = item.get("datePublished")
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date().isoformat()
            except ValueError:
                continue
    return None


def _lang(tree) -> str | None:
    """The page's declared language: <html lang>, Content-Language, og:locale or JSON-LD inLanguage."""
    if tree is None:
        return None
    candidates = [
        *tree.xpath("/html/@lang"),
        *tree.xpath("/html/@xml:lang", namespaces={"xml": "http://www.w3.org/XML/1998/namespace"}),
        *tree.xpath('//meta[translate(@http-equiv,"CONTENT-LANGUAGE","content-language")="content-language"]/@content'),
        *tree.xpath('//meta[@property="og:locale"]/@content'),
        *[item["inLanguage"] for item in _json_ld(tree) if isinstance(item.get("inLanguage"), str)],
    ]
    return next(filter(None, map(language_code, candidates)), None)
