"""Add articles from links: fetch, extract, save into the seeds folder. Indexing is the caller's next step."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.core import messages
from bot.ingest import header
from bot.ingest.extract import NotAnArticle, extract_page
from bot.ingest.fetch import Fetcher, FetchError
from bot.ingest.naming import name_for

log = logging.getLogger(__name__)

Outcome = Literal["added", "exists", "failed"]


@dataclass(frozen=True)
class Added:
    url: str
    outcome: Outcome
    path: str | None  # seeds-relative file name (POSIX), None when it failed
    message: str  # one line for the person who asked


async def add_links(urls: list[str], settings, fetcher: Fetcher) -> list[Added]:
    """One result per link, in order; a link that fails never stops the others.

    Links run concurrently; the fetcher keeps it to one request per site at a time.
    """
    return list(await asyncio.gather(*(_add_one(url, settings, fetcher) for url in urls)))


async def _add_one(url: str, settings, fetcher: Fetcher) -> Added:
    url = url.strip()
    try:
        early = _existing(settings.seeds_dir, url)
        if early:
            return Added(url, "exists", early, messages.ADD_EXISTS.format(url=url, path=early))
        page = await fetcher.get(url, accept="html")
        found = await asyncio.to_thread(extract_page, page.text, page.final_url)
        link = found.url or page.final_url
        # no await from here to the rename: two links to one page cannot both be saved
        name = name_for(link)
        target = settings.seeds_dir / name
        if target.exists():
            return Added(url, "exists", name, messages.ADD_EXISTS.format(url=url, path=name))
        meta = {"title": found.title, "url": link, "site": found.site, "published": found.published, "lang": found.lang}
        text = header.write(meta, found.text)
        size = len(text.encode("utf-8"))
        if size > settings.max_file_bytes:
            line = messages.ADD_TOO_LARGE.format(url=url, size=size, limit=settings.max_file_bytes)
            return Added(url, "failed", None, line)
        _write_atomic(target, text)
        return Added(url, "added", name, messages.ADD_ADDED.format(url=url, path=name))
    except FetchError as exc:
        return Added(url, "failed", None, str(exc))
    except NotAnArticle as exc:
        return Added(url, "failed", None, messages.ADD_NOT_ARTICLE.format(url=url, reason=exc.reason))
    except OSError as exc:
        line = messages.ADD_WRITE_FAILED.format(url=url, path=settings.seeds_dir, detail=exc.strerror or exc)
        return Added(url, "failed", None, line)
    except Exception as exc:  # one bad page must not lose the others
        log.exception("adding %s failed", url)
        return Added(url, "failed", None, messages.ADD_UNEXPECTED.format(url=url, detail=type(exc).__name__))


def _existing(seeds_dir: Path, url: str) -> str | None:
    """The saved file for this very link, so a link added twice costs no request."""
    try:
        name = name_for(url)
    except ValueError:
        return None  # the fetcher names the bad link
    return name if (seeds_dir / name).exists() else None


def _write_atomic(target: Path, text: str) -> None:
    """Written to a temporary file beside it, then renamed: a crash leaves no half article."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
