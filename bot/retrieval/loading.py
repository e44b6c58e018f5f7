"""Read the seeds folder into Articles, stripping what a scraped web page leaves around the text.

The rules hold for any scraped page rather than naming particular lines: navigation
words before the headline, repeated lines, "read also" links, credit lines in
parentheses, and a footer of short non-sentences, comment prompts, calls to action and
reference lists.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from bot.core import messages
from bot.core.errors import SeedsError
from bot.core.models import Article

log = logging.getLogger(__name__)

SUFFIXES = (".txt",)

# A line that opens one of these blocks ends the article: what follows is page furniture.
_FOOTER_START = re.compile(
    r"^(write a comment|leave a (comment|reply)|tinggalkan (komentar|balasan)|komentar\b|comments?\b"
    r"|call to action|share (this|on)|bagikan\b|related( articles| posts| news)?\b|baca juga|lihat juga"
    r"|read more|latest news|berita terkait|berita terbaru|artikel terkait|tags?:|sumber( dan referensi)?:?$"
    r"|sources?( and references)?:?$|referen(ces|si):?$|subscribe|newsletter|follow us|ikuti kami)",
    re.IGNORECASE,
)
# An inline "read also" link dropped between paragraphs: a shouted lead word, then a headline.
_READ_ALSO = re.compile(r"^(MEMBACA|BACA JUGA|BACA|LIHAT JUGA|READ ALSO|READ MORE|RELATED|ALSO READ)\b[\s:]")
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…:\"”’)]$")


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _words(line: str) -> int:
    return len(_WORD.findall(line))


def _is_headline(line: str) -> bool:
    """A headline has a few words and is not a sentence of running text."""
    n = _words(line)
    return 3 <= n <= 30 and len(line) <= 200 and not line.endswith((".", ","))


def _is_sentence(line: str) -> bool:
    return _words(line) >= 8 or (_words(line) >= 4 and bool(_SENTENCE_END.search(line)))


def clean_lines(raw: str) -> tuple[str, list[str]]:
    """Return the title and the article's lines (paragraphs and sub-headings) in order."""
    lines = [re.sub(r"[ \t\u00a0]+", " ", ln).strip() for ln in raw.splitlines()]
    lines = [ln for ln in lines if ln]
    # navigation leftovers before the headline
    start = next((i for i, ln in enumerate(lines) if _is_headline(ln) or _is_sentence(ln)), len(lines))
    lines = lines[start:]
    if not lines:
        return "", []
    title = lines[0] if _is_headline(lines[0]) else ""
    # the footer: everything from the first footer marker in the second half of the page
    half = len(lines) // 2
    for i in range(max(1, half), len(lines)):
        if _FOOTER_START.match(lines[i]):
            lines = lines[:i]
            break
    # trailing short non-sentences ("Latest News", "Source:", bylines)
    while len(lines) > 1 and not _is_sentence(lines[-1]):
        lines.pop()
    kept, seen = [], set()
    for ln in lines:
        key = ln.casefold()
        if key in seen:  # a repeated headline or lede
            continue
        seen.add(key)
        if _READ_ALSO.match(ln):
            continue
        if ln.startswith("(") and ln.endswith(")") and _words(ln) <= 12:  # credit line
            continue
        kept.append(ln)
    if title and kept and kept[0] == title:
        kept = kept[1:]
    return title, kept


@dataclass(frozen=True)
class SeedFile:
    source: str
    data: bytes

    @property
    def digest(self) -> str:
        return file_hash(self.data)


def list_seed_files(seeds_dir: Path) -> list[SeedFile]:
    if not seeds_dir.is_dir():
        raise SeedsError(messages.SEEDS_MISSING.format(path=seeds_dir))
    files = []
    for path in sorted(p for p in seeds_dir.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()):
        try:
            data = path.read_bytes()
        except OSError as exc:
            data = None
            log.warning(
                messages.SKIPPED_FILE.format(
                    source=path.name, reason=messages.SKIP_UNREADABLE.format(detail=exc.strerror)
                )
            )
            continue
        files.append(SeedFile(path.relative_to(seeds_dir).as_posix(), data))
    return files


def parse_article(seed: SeedFile) -> Article | str:
    """The article, or the reason it cannot be read (to be named in a warning)."""
    data = seed.data
    if not data.strip():
        return messages.SKIP_EMPTY
    if b"\x00" in data[:8192]:
        return messages.SKIP_BINARY
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return messages.SKIP_NOT_UTF8.format(detail=f"invalid byte at position {exc.start}")
    title, lines = clean_lines(raw)
    if not lines:
        return messages.SKIP_NO_TEXT
    return Article(source=seed.source, title=title or lines[0][:120], text="\n\n".join(lines))
