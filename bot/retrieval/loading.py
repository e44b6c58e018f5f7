"""Read the seeds folder into Articles, stripping what a scraped web page leaves around the text.

Listing: `list_seed_files` returns one `SeedFile` for every entry of the folder (and its
subfolders) whose name ends in a known suffix. A file that is not read — a link whose
target lies outside the seeds folder, a link loop or a broken link, a folder or a pipe
named like an article, a file over `max_bytes`, an unreadable file — still comes back, with
`skipped` set to the reason and no data, so the index report names it like any other
skipped file ("Skipped <file>: <reason>": `parse_article` returns that reason). Its
`digest` hashes the link target, size and modification time instead of the content, so
it stays cheap and stable and changes when the file does. Links are followed only while
they stay inside the seeds folder; linked folders are not walked into.

Stat before hashing: `known` maps a file to the (size, mtime_ns, ctime_ns, inode) recorded
when it was last read and the digest of what was read then. A regular file (not a link)
whose stat still matches is not read again: it comes back with `known` set to that digest
and no data. Any write changes ctime, which no program can set, so a matching stat means
unchanged content; a file modified less than STAT_SETTLE_NS before it was read gets no
stat (`stat=()`), since a second write in the same clock tick would leave the stat equal.

Cleaning: the rules hold for any scraped page rather than naming particular lines.
Navigation words come before the headline; a repeated headline, "read also" links,
adverts and credit lines are dropped; the footer starts at a marker that is a whole short
line ("Comments", "Tinggalkan komentar", "Related articles", "Sources:"), never at the
first words of a sentence, and a trailing run of short non-sentences is dropped.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import logging
import os
import re
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.core import messages
from bot.core.errors import SeedsError
from bot.core.models import Article
from bot.core.settings import Settings
from bot.retrieval.chunking import count_words

log = logging.getLogger(__name__)
SUFFIXES = (".txt", ".md", ".html", ".htm")
DEFAULT_MAX_FILE_BYTES: int = Settings.model_fields["max_file_bytes"].default
STAT_SETTLE_NS = 2_000_000_000  # a file written this recently is hashed again next time

# Whole short lines that are page furniture, compared as lower-case words (digits and
# punctuation dropped, so "12 Comments" and "Sources :" match). For a line with a colon,
# the words before it ("Call to Action: Join Us", "Photo: Reuters").
# The footer's own start: cuts the rest of the page wherever it comes after the article began.
_END = {
    # English
    "comment", "comments", "write a comment", "leave a comment", "leave a reply", "leave a reply cancel reply",
    "post a comment", "add a comment", "join the conversation", "join the discussion", "source", "sources",
    "sources and references", "reference", "references", "tags", "tag",
    # Indonesian
    "komentar", "tinggalkan komentar", "tinggalkan balasan", "tulis komentar", "beri komentar", "sumber",
    "sumber dan referensi", "referensi", "tagar",
    # French and Spanish
    "commentaire", "commentaires", "laisser un commentaire", "laissez un commentaire", "références", "mots clés",
    "comentarios", "deja un comentario", "deja una respuesta", "fuente", "fuentes", "referencias", "etiquetas",
}  # fmt: skip
# Boxes that may also sit inside an article: they end it only in the page's second half.
_BOX = {
    "related", "related articles", "related posts", "related news", "related stories", "read more", "more news",
    "latest news", "most popular", "most read", "recommended", "you may also like", "share", "share this",
    "share this article", "share this story", "share on", "newsletter", "subscribe", "subscribe to our newsletter",
    "sign up for our newsletter", "follow us", "call to action", "read also", "also read", "see also",
    "baca juga", "lihat juga", "simak juga", "à lire aussi", "lire aussi", "voir aussi", "lee también",
    "berita terkait", "berita terbaru", "berita lainnya", "artikel terkait", "terpopuler", "bagikan",
    "bagikan artikel ini", "ikuti kami", "berlangganan", "berlangganan newsletter", "langganan",
    "articles similaires", "sur le même sujet", "les plus lus", "partager", "partager cet article",
    "abonnez vous", "suivez nous", "artículos relacionados", "noticias relacionadas", "compartir", "suscríbete",
}  # fmt: skip
# Never part of an article, wherever they are: navigation, adverts, photo and author credits.
_DROP = {
    "skip to content", "skip to main content", "menu", "close", "search", "sign in", "log in", "login", "home",
    "advertisement", "sponsored", "photo", "photos", "image", "image credit", "photo credit", "credit", "editor",
    "langsung ke konten", "cari", "masuk", "tutup", "beranda", "iklan", "foto", "gambar", "ilustrasi", "penulis",
    "pewarta", "aller au contenu", "rechercher", "se connecter", "accueil", "fermer", "publicité", "crédit photo",
    "ir al contenido", "buscar", "publicidad",
}  # fmt: skip
# An inline "read also" link: a lead phrase and a colon, or the phrase shouted, then a headline.
_READ_ALSO = re.compile(
    r"^(?:(?i:read also|also read|read more|see also|related|baca juga|lihat juga|simak juga|lire aussi|à lire aussi"
    r"|lire également|voir aussi|lee también|ver también)\s*[:|»>]"
    r"|(?:MEMBACA|BACA JUGA|BACA|LIHAT JUGA|SIMAK JUGA|READ ALSO|READ MORE|RELATED|ALSO READ|LIRE AUSSI)\b[\s:])"
)
# A breadcrumb trail ("Home › Markets › Energy"): short items joined by an arrow-like separator.
_BREADCRUMB = re.compile(r"^[^.!?›»>]{1,40}(?:\s+[›»>]\s+[^.!?›»>]{1,40})+$")
_LETTERS = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"[.!?…:\"”’)。！？।]$")
# Bytes that never occur in text (libmagic's table): NUL and the C0 controls other than
# BEL, BS, TAB, LF, VT, FF, CR and ESC, and DEL.
_BINARY = re.compile(rb"[\x00-\x06\x0e-\x1a\x1c-\x1f\x7f]")


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_headline(line: str) -> bool:
    """A headline has a few words and is not a sentence of running text."""
    n = count_words(line)
    return 3 <= n <= 30 and len(line) <= 200 and not line.endswith((".", ",", "。", "，"))


def _is_sentence(line: str) -> bool:
    return count_words(line) >= 8 or (count_words(line) >= 4 and bool(_SENTENCE_END.search(line)))


def _furniture(line: str) -> str:
    """The kind of page furniture a line is ("end", "box" or "drop", see the sets above); "" for article text."""
    if _READ_ALSO.match(line) or (line.startswith("(") and line.endswith(")") and count_words(line) <= 12):
        return "drop"  # a "read also" link, a credit line in parentheses
    if _is_sentence(line):
        return ""
    if _BREADCRUMB.match(line) and all(count_words(item) <= 4 for item in re.split(r"\s+[›»>]\s+", line)):
        return "drop"
    key = " ".join(_LETTERS.findall(line.split(":", 1)[0].casefold()))
    return "end" if key in _END else "box" if key in _BOX else "drop" if key in _DROP else ""


def clean_lines(raw: str) -> tuple[str, list[str]]:
    """Return the title and the article's lines (paragraphs and sub-headings) in order."""
    lines = [re.sub(r"[ \t\u00a0]+", " ", ln).strip() for ln in raw.splitlines()]
    lines = [ln for ln in lines if ln]
    kinds = [_furniture(ln) for ln in lines]
    # navigation before the headline: the article starts at the first line that reads as a headline or a sentence
    start = next((i for i, ln in enumerate(lines) if not kinds[i] and (_is_headline(ln) or _is_sentence(ln))), None)
    if start is None:
        return "", []
    title = lines[start] if _is_headline(lines[start]) else ""
    body = next((i for i in range(start + bool(title), len(lines)) if not kinds[i] and _is_sentence(lines[i])), start)
    half = sum(map(len, lines[start:])) / 2
    kept, seen, pos = [], set(), 0
    for i in range(start, len(lines)):
        ln, kind = lines[i], kinds[i]
        if (kind == "end" and i > body) or (kind == "box" and pos >= half):
            break  # the footer
        pos += len(ln)
        key = ln.casefold()
        if kind or key in seen:  # furniture, a repeated headline or lede
            continue
        seen.add(key)
        kept.append(ln)
    # trailing short non-sentences ("Latest News", "Source:", bylines)
    while len(kept) > 1 and not _is_sentence(kept[-1]):
        kept.pop()
    if title and kept and kept[0] == title:
        kept = kept[1:]
    return title, kept


@dataclass(frozen=True)
class SeedFile:
    """One article file: its bytes, or (`skipped`) why it was not read, and a `stamp` standing in for them."""

    source: str  # the path relative to the seeds folder: the citation
    data: bytes = b""
    skipped: str = ""
    stamp: str = ""  # a skipped file's link target, size and mtime
    stat: tuple[int, ...] = ()  # (size, mtime_ns, ctime_ns, inode) of a regular file, taken before reading it
    known: str = ""  # the digest recorded for this same stat: the file was not read (`data` is empty)

    @functools.cached_property
    def digest(self) -> str:
        """Hashed once: an update asks for it several times."""
        if self.known:
            return self.known
        if self.skipped:
            return "skipped:" + file_hash(f"{self.skipped}\n{self.stamp}".encode())
        return file_hash(self.data)


def _stamp(path: Path) -> str:
    """What identifies a file without reading it: its link target, and its and the target's size and mtime."""
    parts = []
    try:
        parts.append(os.readlink(path))
    except OSError:
        parts.append("")
    for follow in (False, True):
        try:
            st = os.stat(path, follow_symlinks=follow)
            parts.append(f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append("")
    return "|".join(parts)


def _read_seed(path: Path, source: str, root: Path, max_bytes: int) -> SeedFile:
    def skip(reason: str) -> SeedFile:
        return SeedFile(source, skipped=reason, stamp=_stamp(path))

    try:
        real = path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a link loop this way
        return skip(messages.SKIP_LINK_LOOP)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return skip(messages.SKIP_LINK_LOOP)
        if path.is_symlink():
            return skip(messages.SKIP_BROKEN_LINK.format(target=path.parent / os.readlink(path)))
        return skip(messages.SKIP_UNREADABLE.format(detail=exc.strerror or exc))
    if not real.is_relative_to(root):
        return skip(messages.SKIP_OUTSIDE.format(target=real))
    try:
        st = real.stat()
        if stat.S_ISDIR(st.st_mode):
            return skip(messages.SKIP_FOLDER.format(suffix=path.suffix))
        if not stat.S_ISREG(st.st_mode):
            return skip(messages.SKIP_NOT_REGULAR)
        if st.st_size > max_bytes:
            return skip(messages.SKIP_TOO_LARGE.format(size=st.st_size, limit=max_bytes))
        with real.open("rb") as f:
            data = f.read(max_bytes + 1)  # the file may have grown since
    except OSError as exc:
        return skip(messages.SKIP_UNREADABLE.format(detail=exc.strerror or exc))
    if len(data) > max_bytes:
        return skip(messages.SKIP_TOO_LARGE.format(size=os.stat(real).st_size, limit=max_bytes))
    return SeedFile(source, data)


def list_seed_files(
    seeds_dir: Path,
    max_bytes: int | None = None,
    known: Mapping[str, tuple[Sequence[int], str]] | None = None,
    folders: dict[str, int] | None = None,
) -> list[SeedFile]:
    """Every article file of the folder, read or with the reason it was not (see the module docstring).

    `max_bytes` defaults to the default of the `max_file_bytes` setting. `known`: file -> (stat, digest)
    from the last update; a regular file whose stat is unchanged is not read. `folders`, when given,
    receives each folder's modification time, taken before it is listed (see `folders_unchanged`).
    """
    if not seeds_dir.exists():
        raise SeedsError(messages.SEEDS_MISSING.format(path=seeds_dir))
    if not seeds_dir.is_dir():
        raise SeedsError(messages.SEEDS_NOT_A_FOLDER.format(path=seeds_dir))
    root = seeds_dir.resolve()
    limit = DEFAULT_MAX_FILE_BYTES if max_bytes is None else max_bytes
    found: list[tuple[str, str, os.DirEntry]] = []
    _scan(os.fspath(seeds_dir), "", found, folders)
    known = known or {}
    found.sort(key=lambda item: item[0])
    return [_listed(path, source, root, limit, known.get(source), entry) for source, path, entry in found]


def _scan(folder: str, prefix: str, found: list, folders: dict[str, int] | None = None) -> None:
    """Article files under `folder`, as os.walk finds them (not into linked folders, unreadable ones skipped).

    os.scandir's entries, not paths: listing 100k files is then a stat each, not a few Path objects each.
    """
    try:
        if folders is not None:  # before listing: a file added meanwhile changes it again
            folders[prefix] = os.stat(folder).st_mtime_ns
        with os.scandir(folder) as entries:
            entries = list(entries)
    except OSError:
        return
    for entry in entries:
        if is_article_name(entry.name):
            found.append((prefix + entry.name, entry.path, entry))
        try:
            real_folder = entry.is_dir(follow_symlinks=False)
        except OSError:
            real_folder = False
        if real_folder:
            _scan(entry.path, prefix + entry.name + "/", found, folders)


def seeds_match(
    seeds_dir: Path, digests: Mapping[str, str], stats: Mapping[str, Sequence[int]], max_bytes: int | None = None
) -> bool:
    """Whether the seeds are exactly the files of `digests` (file -> digest, skipped ones included).

    What comparing `list_seed_files(known=...)` with them concludes, without a SeedFile per
    file: a regular file with its recorded stat (`stats`) is not read, any other is read and
    hashed under every rule of the listing. At a million passages (120k files) this was most
    of a cold start.
    """
    if not digests or not seeds_dir.is_dir():
        return False
    root, limit = seeds_dir.resolve(), DEFAULT_MAX_FILE_BYTES if max_bytes is None else max_bytes
    found: list[tuple[str, str, os.DirEntry]] = []
    _scan(os.fspath(seeds_dir), "", found)
    if len(found) != len(digests):
        return False
    for source, path, entry in found:
        if source not in digests:
            return False
        want = stats.get(source)
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            st = None
        recorded = want is not None and st is not None and _key(st) == tuple(want)
        if recorded and stat.S_ISREG(st.st_mode) and st.st_size <= limit:
            continue
        if _listed(path, source, root, limit, None, entry).digest != digests[source]:
            return False
    return True


def is_article_name(name: str) -> bool:
    """os.path.splitext(name)[1].lower() in SUFFIXES (a dot file has no suffix), in a third of its time."""
    return name.lower().endswith(SUFFIXES) and "." in name.lstrip(".")


def folders_unchanged(seeds_dir: Path, recorded: Mapping[str, int]) -> bool:
    """Whether no file was added to, removed from or renamed in the seeds since `recorded`
    (`list_seed_files`'s folders): a folder's modification time changes with its entries, so
    a stat per folder, not per file, tells. A file rewritten in place changes no folder: it is
    seen by the next listing of every file (`newsbot index`, any update)."""
    if not recorded:
        return False
    for prefix, mtime in recorded.items():
        try:
            st = os.stat(os.path.join(seeds_dir, prefix), follow_symlinks=False)
        except OSError:
            return False
        if not stat.S_ISDIR(st.st_mode) or st.st_mtime_ns != mtime:
            return False
    return True


def _key(st: os.stat_result) -> tuple[int, ...]:
    """What the index records of a file's stat: a write changes one of them."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _listed(
    path: str, source: str, root: Path, limit: int, known: tuple[Sequence[int], str] | None, entry=None
) -> SeedFile:
    try:
        st = entry.stat(follow_symlinks=False) if entry is not None else os.lstat(path)
    except OSError:
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):  # links, folders, pipes: every rule of _read_seed applies
        return _read_seed(Path(path), source, root, limit)
    key = _key(st)
    if known is not None and tuple(known[0]) == key and st.st_size <= limit:
        return SeedFile(source, stat=key, known=known[1])
    seed = _read_seed(Path(path), source, root, limit)
    settled = time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) >= STAT_SETTLE_NS
    return replace(seed, stat=key) if settled and not seed.skipped else seed


def parse_article(seed: SeedFile) -> Article | str:
    """The article, or the reason it cannot be read (to be named in a warning)."""
    if seed.known:
        raise ValueError(f"{seed.source} was not read (its stat was unchanged): list it without `known`")
    if seed.skipped:
        return seed.skipped
    data = seed.data
    if not data.strip():
        return messages.SKIP_EMPTY
    if _BINARY.search(data):
        return messages.SKIP_BINARY
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return messages.SKIP_NOT_UTF8.format(detail=f"invalid byte at position {exc.start}")
    if seed.source.lower().endswith((".html", ".htm")):
        return _from_page(seed.source, raw)
    from bot.ingest import header

    meta, body, problems = header.read_with_problems(raw)
    for problem in problems:
        log.warning(messages.HEADER_VALUE_DROPPED.format(source=seed.source, problem=problem))
    title, lines = clean_lines(body)
    if not lines:
        return messages.SKIP_NO_TEXT
    title = meta.get("title") or title or lines[0][:120]
    return Article(seed.source, title, "\n\n".join(lines), *(meta.get(k) for k in ("url", "site", "published", "lang")))


def _from_page(source: str, html: str) -> Article | str:
    """A saved web page: the article-extraction library finds the text and the page's own title, link and date."""
    from bot.ingest import extract  # trafilatura and lxml take a while to import; only saved pages need them

    try:
        page = extract.extract_page(html)
    except extract.NotAnArticle as exc:
        return messages.SKIP_HTML_NOT_ARTICLE.format(reason=exc)
    lines = [line for line in page.text.splitlines() if line.strip()]
    if not lines:
        return messages.SKIP_NO_TEXT
    title = page.title or lines[0][:120]
    return Article(source, title, "\n\n".join(lines), page.url, page.site, page.published, page.lang)
