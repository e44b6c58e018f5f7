"""Build or update the index: embed only new or changed files, drop removed ones.

`update_index` reads as its steps: list the seeds, decide what to re-embed, reuse the
vectors of unchanged files, chunk and embed the new ones, write a generation, and return
it as built in memory (a separate load would read back what was just written).

An update costs what changed, not the size of the archive:
- a file whose stat is unchanged is not read (manifest "stats", see loading.py), and each
  file is read and hashed at most once;
- BM25 is scored from term counts kept in the generation (lexical.Lexicon, manifest "lexicon"):
  only new passages are tokenized, and their counts merged into the kept ones;
- what is kept of the base is copied, not rebuilt: passages and articles as bytes, vectors
  file to file or shared and appended to, IVF lists extended (see store.py); the sentence
  mean is corrected, nprobe kept while few passages changed (store.next_dense);
- duplicates are found from the base's key file (KEYS_FILE): kept articles are not read;
- the decline calibration is kept while few passages changed (calibration.py), and the
  probe vectors are kept in the generation (PROBES_FILE) for the next process;
- new vectors are written out as they are embedded (NEW_FILES), so a build holds GROUP_PASSAGES
  passages' vectors at a time, not the archive's.

The first update of an index written before the term counts were kept tokenizes every
passage once (its token file has the older layout); the ones after it do not.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bot.core import messages
from bot.core.errors import IndexCorrupt, SeedsError
from bot.core.models import Article, IndexReport, Passage
from bot.ingest.naming import normalise
from bot.retrieval import calibration, languages, lexical, search
from bot.retrieval.chunking import chunk
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.embedding import Embedder
from bot.retrieval.loading import SeedFile, folders_unchanged, list_seed_files, parse_article, seeds_match
from bot.retrieval.store import (
    BASELINE_FILE,
    FORMAT_VERSION,
    UPGRADABLE_FORMATS,
    Archived,
    IndexData,
    MappedArticles,
    MappedPassages,
    Rows,
    language_of,
    load_current,
    next_dense,
    open_written,
    passage_sources,
    publish,
    read_manifest,
    read_vectors,
    write_articles,
    write_error,
    write_rows,
    writer_lock,
)

log = logging.getLogger(__name__)
CHUNKER_VERSION = 7  # bump when loading or chunking rules change: forces a rebuild
BATCH = 16
PROBES_FILE = "probes.npy"  # the calibration's probe vectors for this model
KEYS_FILE = "articles.keys.json"  # every article's text hash and link -> its file: duplicates found without reading
# the new vectors of an update, written as they are embedded (embed_new), removed once copied into the generation
NEW_FILES = ("new.passages.f32", "new.sentences.f32", "new.distinct.f32")
GROUP_PASSAGES = 4096


def chunking_params(config: RetrievalConfig) -> dict:
    return {
        "max_chars": config.chunk_max_chars,
        "overlap_sentences": config.chunk_overlap_sentences,
        "version": CHUNKER_VERSION,
    }


def seed_state(seeds: list[SeedFile]) -> dict[str, str]:
    return {s.source: s.digest for s in seeds}


def list_seeds(
    config: RetrievalConfig,
    known: Mapping[str, tuple[Sequence[int], str]] | None = None,
    folders: dict[str, int] | None = None,
) -> list[SeedFile]:
    """The seed files; those whose stat the index recorded (`known`, by default from the manifest on disk) unread.

    Only a digest is then known for them: pass `known={}` to read every file (to chunk it again).
    `folders` receives the folders' modification times (the manifest's "folders").
    """
    if known is None:
        try:
            known = known_files(read_manifest(config.index_dir))
        except IndexCorrupt:
            known = {}
    return list_seed_files(config.seeds_dir, max_bytes=config.max_file_bytes, known=known, folders=folders)


def seeds_unchanged(manifest: dict, config: RetrievalConfig, embedder_name: str) -> bool:
    """The cheap freshness check of NEWSBOT_SEEDS_CHECK=folders: one stat per folder of the seeds.

    At a million passages (120k files) listing and stat-ing every file took 1.8 s of a 4.5 s
    cold start; the folders are a few hundred stats. False (list every file) when the index
    recorded no folders (written before this, or by an update that did not list the seeds).
    """
    current = manifest.get("format_version") == FORMAT_VERSION
    return (
        current
        and not rebuild_reason(manifest, config, embedder_name)
        and folders_unchanged(config.seeds_dir, manifest.get("folders") or {})
    )


def files_unchanged(manifest: dict, config: RetrievalConfig, embedder_name: str) -> bool:
    """The files check (NEWSBOT_SEEDS_CHECK=files): `is_fresh` of every file listed, without
    making a SeedFile of each; a file whose stat the index recorded is not read."""
    return (
        manifest.get("format_version") == FORMAT_VERSION
        and not rebuild_reason(manifest, config, embedder_name)
        and seeds_match(
            config.seeds_dir,
            {**manifest["files"], **(manifest.get("skipped") or {})},
            manifest.get("stats") or {},
            config.max_file_bytes,
        )
    )


def known_files(manifest: dict | None, articles: Mapping[str, Archived] | None = None) -> dict:
    """file -> (stat, digest) of the indexed files whose stat the manifest recorded (and in `articles`, if given)."""
    if not manifest:
        return {}
    files, stats = manifest.get("files") or {}, manifest.get("stats") or {}
    return {
        source: (stat, files[source])
        for source, stat in stats.items()
        if source in files and (articles is None or source in articles)
    }


def is_fresh(manifest: dict | None, config: RetrievalConfig, embedder_name: str, seeds: list[SeedFile]) -> bool:
    """True if the index on disk matches the seeds, the model and the chunking settings."""
    return (
        bool(manifest)
        and manifest.get("format_version") == FORMAT_VERSION
        and not rebuild_reason(manifest, config, embedder_name)
        and ({**manifest["files"], **manifest.get("skipped", {})} == seed_state(seeds))
    )


def rebuild_reason(manifest: dict, config: RetrievalConfig, embedder_name: str) -> str:
    """Why this index's vectors cannot be reused, or "" (an older format that can be upgraded is reused)."""
    if manifest.get("format_version") not in (FORMAT_VERSION, *UPGRADABLE_FORMATS):
        return messages.INDEX_REBUILD_FORMAT
    if manifest.get("model") != embedder_name:
        return messages.INDEX_REBUILD_MODEL.format(old=manifest.get("model"), new=embedder_name)
    if manifest.get("chunking") != chunking_params(config):
        return messages.INDEX_REBUILD_CHUNKING
    return ""


def embed_text(p: Passage) -> str:
    """The title goes with the passage: it names the story a passage belongs to."""
    return f"{p.title}\n{p.text}"


@dataclass(frozen=True)
class Plan:
    """What an update does with each seed file."""

    state: Mapping[str, str]  # every seed file and its digest
    keep: frozenset[str]  # unchanged files: their vectors are reused
    articles: tuple[Article, ...]  # new or changed files: chunked and embedded
    skipped: tuple[tuple[str, str], ...]  # unreadable files and why
    archived: tuple[Archived, ...] = ()  # the new articles' citation details (the kept ones are copied)
    duplicates: tuple[tuple[str, str], ...] = ()  # (file, the file it repeats): not indexed
    stats: Mapping[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)  # for the manifest's "stats"
    keys: Mapping[str, str] = dataclasses.field(default_factory=dict)  # text hash or link -> the file that has it


@dataclass(frozen=True)
class Parts:
    """Passages with their sentence offsets and vectors, in index order."""

    passages: tuple[Passage, ...]
    sentences: tuple[tuple[tuple[int, int], ...], ...]
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray

    @classmethod
    def empty(cls, dim: int) -> Parts:
        return cls((), (), np.zeros((0, dim), np.float32), np.zeros((0, dim), np.float32))

    def __add__(self, other: Parts) -> Parts:
        return Parts(
            self.passages + other.passages,
            self.sentences + other.sentences,
            np.concatenate([self.passage_vectors, other.passage_vectors]),
            np.concatenate([self.sentence_vectors, other.sentence_vectors]),
        )


def update_index(
    config: RetrievalConfig,
    embedder: Embedder,
    current: IndexData | None = None,
    *,
    force: bool = False,
    progress: bool = False,
) -> tuple[IndexData, IndexReport | None]:
    """Bring the index in line with the seeds: what is now on disk, and what was done (None: nothing).

    The index returned is the generation just written, read as a load reads it (memory-mapped,
    passages parsed on access), without the load's second pass over what was just written.

    One writer at a time: a second one waits for the first, then finds the index fresh.
    `current` (the index in memory) lends its vectors if the one on disk is gone.
    IndexWriteError if the index folder cannot be written.
    """
    with writer_lock(config.index_dir) as tmp:
        on_disk, damage = _read_on_disk(config.index_dir, current)
        base, rebuilt_because = _reusable(on_disk or current, damage, force, config, embedder.name)
        # a file left unread is known only by its digest: only the on-disk base, whose passages are reused, vouches
        trusted = base is not None and base is on_disk
        folders: dict[str, int] = {}
        seeds = list_seeds(config, known_files(base.manifest, base.articles) if trusted else {}, folders)
        if trusted and is_fresh(on_disk.manifest, config, embedder.name, seeds):
            return on_disk, None  # another process brought it up to date while we waited
        old_files = base.manifest["files"] if base else {}
        plan = plan_update(seeds, old_files, base.articles if base else {}, _stored_keys(base))
        if not plan.keep and not plan.articles:
            raise SeedsError(messages.SEEDS_EMPTY.format(path=config.seeds_dir))
        rows = kept_rows(base, plan.keep)
        new = embed_new(plan.articles, config, embedder, progress, into=tmp)
        data = write_generation(tmp, config, embedder, plan, new, base, rows, folders)
    return data, _report(plan, old_files, len(data.passages), rebuilt_because, data.manifest, _languages(data))


def _languages(data: IndexData) -> list[str]:
    """Every article's language code, read from the arrays of a written generation."""
    return [language_of(data.articles, source) for source in data.articles]


def _report(
    plan: Plan,
    old_files: Mapping[str, str],
    passages: int,
    rebuilt_because: str,
    manifest: dict,
    article_codes: Sequence[str] = (),
) -> IndexReport:
    return IndexReport(
        added=tuple(a.source for a in plan.articles if a.source not in old_files),
        changed=tuple(a.source for a in plan.articles if a.source in old_files),
        removed=tuple(s for s in old_files if s not in plan.state),
        skipped=tuple(f"{source}: {why}" for source, why in plan.skipped if not _is_duplicate(plan, source)),
        duplicates=tuple(f"{dup}: {messages.DUPLICATE_OF.format(original=orig)}" for dup, orig in plan.duplicates),
        unchanged=len(plan.keep),
        passages=passages,
        rebuilt_because=rebuilt_because,
        calibration=calibration.describe(manifest),
        dense=str((manifest.get("dense") or {}).get("reason", "")),
        languages=languages.describe(article_codes),
    )


def _read_on_disk(index_dir: Path, current: IndexData | None = None) -> tuple[IndexData | None, str]:
    """The index on disk (`current` itself when it is that generation), or None and what is wrong with it."""
    try:
        return load_current(index_dir, current), ""
    except IndexCorrupt as exc:
        log.warning(messages.INDEX_DAMAGED.format(path=index_dir, detail=exc))
        return None, str(exc)


def _reusable(
    base: IndexData | None, damage: str, force: bool, config: RetrievalConfig, embedder_name: str
) -> tuple[IndexData | None, str]:
    """The index whose vectors can be reused, or None and why the whole index is rebuilt."""
    if force:
        return None, messages.INDEX_REBUILD_FORCED
    if damage:
        return None, f"damaged index: {damage}"
    reason = rebuild_reason(base.manifest, config, embedder_name) if base else ""
    return (None, reason) if reason else (base, "")


def _is_duplicate(plan: Plan, source: str) -> bool:
    return any(source == dup for dup, _ in plan.duplicates)


def _language(source: str, declared: str | None, text: str) -> str | None:
    """The declared language when the detector cannot load (said in the log): a language only refines ranking."""
    try:
        found = languages.settle(declared, text)
    except languages.Unavailable as exc:
        log.warning(messages.LANGUAGE_UNKNOWN.format(source=source, error=exc))
        return declared
    if declared and found != declared:
        log.info(messages.LANGUAGE_OVERRULED.format(source=source, declared=declared, found=found))
    return found


def plan_update(
    seeds: list[SeedFile],
    old_files: Mapping[str, str],
    old_articles: Mapping[str, Archived] | None = None,
    old_keys: Mapping[str, str] | None = None,
) -> Plan:
    """Keep files whose digest is unchanged; read the others, naming those that cannot be read.

    An article whose link or text an earlier file already has is a duplicate: named, not indexed
    (unchanged files claim their link and text first, so an old citation never moves to a new copy).
    `old_keys`: the base's key -> file map (KEYS_FILE), so that kept articles are not read for theirs.
    """
    old_articles = old_articles or {}
    keep = {s.source for s in seeds if old_files.get(s.source) == s.digest and s.source in old_articles}
    if old_keys is None:  # an index without its keys file: read every kept article for its keys
        owner = {key: source for source in sorted(keep) for key in _keys(old_articles[source])}
    else:
        owner = {key: source for key, source in old_keys.items() if source in keep}
    archived, articles, skipped, duplicates = [], [], [], []
    for seed in seeds:
        if seed.source in keep:
            continue
        article = parse_article(seed)
        if isinstance(article, str):
            log.warning(messages.SKIPPED_FILE.format(source=seed.source, reason=article))
            skipped.append((seed.source, article))
            continue
        # as its page or header declares it, checked against the text: search compares BM25 within a language
        article = dataclasses.replace(article, lang=_language(seed.source, article.lang, article.text))
        entry = Archived(article.info, text_hash(article.text))
        original = next((owner[k] for k in _keys(entry) if k in owner), None)
        if original is not None:
            why = messages.DUPLICATE_OF.format(original=original)
            log.warning(messages.SKIPPED_FILE.format(source=seed.source, reason=why))
            duplicates.append((seed.source, original))
            skipped.append((seed.source, why))
            continue
        owner.update(dict.fromkeys(_keys(entry), seed.source))
        articles.append(article)
        archived.append(entry)
    stats = {s.source: s.stat for s in seeds if s.stat}
    return Plan(
        seed_state(seeds),
        frozenset(keep),
        tuple(articles),
        tuple(skipped),
        tuple(archived),
        tuple(duplicates),
        stats,
        owner,
    )


def text_hash(text: str) -> str:
    """Of the text's words, so that re-wrapped lines or spacing do not hide a copy."""
    return hashlib.sha256(" ".join(text.casefold().split()).encode()).hexdigest()[:32]


def _keys(a: Archived) -> list[str]:
    keys = [f"text:{a.text_sha}"]
    try:
        link = normalise(a.info.url) if a.info.url else ""
    except ValueError:
        link = ""
    if link:  # the http and https, www and bare copies of a page are one page
        keys.append("url:" + link.split("://", 1)[1].removeprefix("www."))
    return keys


def kept_rows(base: IndexData | None, keep: frozenset[str]) -> np.ndarray:
    """The base's passages that belong to unchanged files, in index order (their rows, increasing)."""
    if base is None:
        return np.zeros(0, dtype=np.int64)
    if isinstance(base.passages, MappedPassages):
        return base.passages.rows_of(keep)
    sources = passage_sources(base.passages)
    return np.flatnonzero(np.fromiter((s in keep for s in sources), dtype=bool, count=len(sources)))


def embed_new(
    articles: tuple[Article, ...], config: RetrievalConfig, embedder: Embedder, progress: bool, into: Path | None = None
) -> Parts:
    """Chunk the new and changed articles, and embed each passage and each distinct sentence once.

    Consecutive passages share sentences (`chunk_overlap_sentences`) and an article may repeat a
    line word for word; a sentence's vector depends on its text alone (the model embeds each text
    on its own, whatever the batch), so each distinct text is embedded once and its row reused.
    The result still has one sentence row per passage-sentence, as the store and search expect.

    `into` (a folder): the vectors are written there GROUP_PASSAGES passages at a time (NEW_FILES)
    and returned memory-mapped, so that a build's memory does not grow with the vectors of the
    archive (a sentence seen in an earlier group is read back from the file, not embedded again).
    """
    passages, sentences = [], []
    for article in articles:
        for passage, spans in chunk(article, config.chunk_max_chars, config.chunk_overlap_sentences):
            passages.append(passage)
            sentences.append(tuple((s.start - passage.start, s.end - passage.start) for s in spans))
    if not passages:
        return Parts.empty(embedder.dim)
    log.info("embedding %d passages and their sentences from %d files", len(passages), len(articles))
    total = len(passages) + sum(map(len, sentences))
    with tqdm(total=total, desc="Embedding", unit="text", disable=not progress, leave=False) as bar:
        if into is None:
            pv, sv = _embed_group(embedder, passages, sentences, bar)
            return Parts(tuple(passages), tuple(sentences), pv, sv)
        paths = [into / name for name in NEW_FILES]
        seen: dict[str, int] = {}  # every distinct sentence text -> its row in the distinct file
        with _VectorFiles(paths, into.parent) as files:
            for g in range(0, len(passages), GROUP_PASSAGES):
                group = slice(g, g + GROUP_PASSAGES)
                files.append(*_embed_streamed(embedder, passages[group], sentences[group], seen, files, bar))
    count = sum(map(len, sentences))
    return Parts(
        tuple(passages),
        tuple(sentences),
        _raw(paths[0], len(passages), embedder.dim),
        _raw(paths[1], count, embedder.dim),
    )


def _embed_streamed(embedder: Embedder, passages, sentences, seen: dict, files, bar) -> tuple[np.ndarray, ...]:
    """A group's passage vectors, sentence rows and newly seen distinct sentence vectors.

    A sentence seen in an earlier group is not embedded again: its vector is read back from the
    distinct file (a read, not a mapping, so it does not stay in this process's memory).
    """
    texts = [embed_text(p) for p in passages]
    first, fresh, rows = len(seen), [], []
    for p, spans in zip(passages, sentences, strict=True):
        for a, b in spans:
            text = p.text[a:b]
            row = seen.get(text)
            if row is None:
                row = seen[text] = len(seen)
                fresh.append(text)
            rows.append(row)
    rows = np.asarray(rows, dtype=np.int64)
    vectors = _embed(embedder, texts + fresh, bar)
    distinct = vectors[len(texts) :]
    out = np.empty((len(rows), vectors.shape[1]), np.float32)
    here = rows >= first
    out[here] = distinct[rows[here] - first]
    if not here.all():
        out[~here] = files.read_distinct(rows[~here], vectors.shape[1])
    return vectors[: len(texts)], out, distinct


def _embed_group(embedder: Embedder, passages, sentences, bar) -> tuple[np.ndarray, np.ndarray]:
    texts = [embed_text(p) for p in passages]
    distinct, rows = distinct_sentences(passages, sentences)
    vectors = _embed(embedder, texts + distinct, bar)
    return vectors[: len(texts)], vectors[len(texts) :][rows]


class _VectorFiles:
    """The files new vectors are appended to; a full disk is IndexWriteError naming the index folder."""

    def __init__(self, paths: list[Path], index_dir: Path):
        self.paths, self.index_dir, self.files = paths, index_dir, []

    def __enter__(self) -> _VectorFiles:
        with self._named():
            self.files = [open(path, "w+b") for path in self.paths]  # noqa: SIM115 (closed in __exit__)
        return self

    def append(self, *rows: np.ndarray) -> None:
        with self._named():
            for f, x in zip(self.files, rows, strict=True):
                f.write(np.ascontiguousarray(x, dtype=np.float32).tobytes())
                f.flush()

    def read_distinct(self, rows: np.ndarray, dim: int) -> np.ndarray:
        """Rows of the distinct-sentence file written so far."""
        size = 4 * dim
        fd = self.files[2].fileno()
        with self._named():
            data = b"".join(os.pread(fd, size, int(r) * size) for r in rows.tolist())
        return np.frombuffer(data, dtype=np.float32).reshape(len(rows), dim)

    def __exit__(self, *exc) -> None:
        with self._named():
            for f in self.files:
                f.close()

    @contextmanager
    def _named(self):
        try:
            yield
        except OSError as exc:
            raise write_error(self.index_dir, exc) from None


def _raw(path: Path, rows: int, dim: int) -> np.ndarray:
    if not rows:
        return np.zeros((0, dim), np.float32)
    return np.memmap(path, dtype="<f4", mode="r", shape=(rows, dim))


def distinct_sentences(
    passages: Sequence[Passage], sentences: Sequence[Sequence[tuple[int, int]]]
) -> tuple[list[str], np.ndarray]:
    """The distinct sentence texts, in first-seen order, and for each passage-sentence its row among them."""
    row_of: dict[str, int] = {}
    rows = [
        row_of.setdefault(p.text[a:b], len(row_of))
        for p, spans in zip(passages, sentences, strict=True)
        for a, b in spans
    ]
    return list(row_of), np.asarray(rows, dtype=np.int64)


def write_generation(
    tmp: Path,
    config: RetrievalConfig,
    embedder: Embedder,
    plan: Plan,
    new: Parts,
    base: IndexData | None = None,
    rows: np.ndarray | None = None,
    folders: Mapping[str, int] | None = None,
) -> IndexData:
    """Write the generation: `rows` of `base` (unchanged files) carried over, then the `new` passages.

    What is kept is copied, not rebuilt: its passages as bytes, its vectors file to file, its IVF
    lists (only the new vectors are assigned), its BM25 token ids; the sentence mean, nprobe and
    the decline calibration are updated or kept while few passages changed. Returns the generation
    as `load_index` would read it.
    """
    rows = kept_rows(base, plan.keep) if rows is None else np.asarray(rows, dtype=np.int64)
    parts = Rows(base, rows, new.passages, new.sentences, new.passage_vectors, new.sentence_vectors)
    skipped = {source: plan.state[source] for source, _ in plan.skipped}
    files = {source: digest for source, digest in plan.state.items() if source not in skipped}
    manifest = {
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        "dim": embedder.dim,
        "chunking": chunking_params(config),
        "files": files,
        "skipped": skipped,
        "stats": {source: list(stat) for source, stat in plan.stats.items() if source in files},
        "folders": dict(folders or {}),  # modification times when listed, for NEWSBOT_SEEDS_CHECK=folders
        "passages": len(parts),
        "sentences": parts.sentence_count,
        "built_at": time.time(),
    }
    try:
        write_rows(tmp, parts)
        for name in NEW_FILES:  # copied: what is mapped of them stays readable
            (tmp / name).unlink(missing_ok=True)
        shared = _shared_articles(base, plan)
        write_articles(tmp, plan.archived if shared is not None else _articles(base, plan), shared)
        (tmp / KEYS_FILE).write_text(json.dumps(plan.keys, ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        raise write_error(config.index_dir, exc) from None
    everything = read_vectors(tmp / "passages.npy", len(parts), embedder.dim)
    dense, manifest["dense"] = next_dense(parts, everything, tmp, exact_max=config.exact_search_max_passages)
    del everything
    lexicon = lexicon_of(base, rows, new.passages)
    manifest["lexicon"] = lexical.manifest_entry(lexicon, tokenizer_fingerprint())
    changed = len(new.passages) + (len(base.passages) - len(rows) if base else 0)
    old = base.manifest.get("calibration") if base else None
    kept = calibration.carried(old, len(parts), changed, config.top_k)
    probes = calibration.probe_vectors(embedder, _stored_probes(base))
    # the baseline sample moves with the calibration: kept while few passages changed, else drawn again
    if kept is not None and base is not None and base.baseline is not None:
        baseline = base.baseline
    else:
        baseline = search.draw_baseline(read_vectors(tmp / "sentences.npy", parts.sentence_count, embedder.dim))
    try:
        np.save(tmp / BASELINE_FILE, baseline, allow_pickle=False)
    except OSError as exc:
        raise write_error(config.index_dir, exc) from None
    if kept is None:  # where off-topic questions land in this very index: a changed archive recalibrates itself
        built = open_written(tmp, manifest, dense, lexicon)
        kept = calibration.calibrate(built, embedder, config.top_k, vectors=probes)
        del built
    manifest["calibration"] = kept
    try:  # into the folder that publish renames into place
        np.save(tmp / PROBES_FILE, np.ascontiguousarray(probes, dtype=np.float32), allow_pickle=False)
    except OSError as exc:
        raise write_error(config.index_dir, exc) from None
    gen = publish(tmp, manifest, dense, lexicon)
    del dense, lexicon  # the written index is read back memory-mapped: shared with other processes, not a private copy
    return open_written(gen, manifest)


def _articles(base: IndexData | None, plan: Plan) -> Iterator[Archived | tuple[str, bytes, str]]:
    """Every indexed article: the kept ones as their line in the base (copied), then the new ones."""
    articles = base.articles if base is not None else {}
    mapped = isinstance(articles, MappedArticles)
    for source in sorted(plan.keep):
        yield (source, articles.line(source), articles.lang_of(source)) if mapped else articles[source]
    yield from plan.archived


def _shared_articles(base: IndexData | None, plan: Plan) -> MappedArticles | None:
    """The base's articles when the update keeps every one of them (an addition): shared, not copied."""
    articles = base.articles if base is not None else None
    if isinstance(articles, MappedArticles) and len(plan.keep) == len(articles):  # keep is a subset of them
        return articles
    return None


def _stored_keys(base: IndexData | None) -> dict[str, str] | None:
    """The base's key -> file map, if its generation kept one."""
    folder = getattr(base, "folder", None)
    if folder is None:
        return None
    try:
        keys = json.loads((folder / KEYS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return keys if isinstance(keys, dict) else None


def _stored_probes(base: IndexData | None) -> np.ndarray | None:
    """The probe vectors kept with the base, if they come from the current bank (a different model is a rebuild)."""
    folder = getattr(base, "folder", None)
    old = (base.manifest.get("calibration") or {}) if base else {}
    if folder is None or old.get("bank") != calibration.bank_digest():
        return None
    try:
        return np.load(folder / PROBES_FILE, allow_pickle=False)
    except (OSError, ValueError):
        return None


TOKENIZER_SAMPLE = "GPUs, chips and 1,3 triliun: the Bus's class-analysis of LLMs; perusahaan kelas Rp 5 di Jakarta."


def tokenizer_fingerprint() -> str:
    """Changes when lexical.tokens would split or fold text differently: stored token ids are then not reused."""
    probe = "\n".join([*lexical.tokens(TOKENIZER_SAMPLE), *sorted(lexical.STOPWORDS)])
    return hashlib.sha256(probe.encode()).hexdigest()[:16]


def lexicon_of(
    base: IndexData | None, rows: Sequence[int], new: Sequence[Passage]
) -> lexical.Lexicon | lexical.Segments:
    """The term counts of the kept passages (`rows` of `base`) and of the `new` ones.

    Only the new passages are tokenized, unless the base's counts come from another tokenizer
    (or an index of format 5, which kept none): then the kept passages are tokenized too.
    An addition leaves the base's main counts as they are and merges the new passages into
    the recent segment, while it holds at most lexical.RECENT_MAX passages; anything else
    merges everything into one.
    """
    rows = np.asarray(rows, dtype=np.int64)
    old = _stored_lexicon(base)
    if old is None and base is not None:
        new = [base.passages[i] for i in rows.tolist()] + list(new)
        rows = rows[:0]
    added = lexical.Lexicon.of_texts([embed_text(p) for p in new])
    if not len(rows):
        return added
    main, recent = (old.main, old.recent) if isinstance(old, lexical.Segments) else (old, None)
    if len(rows) == len(base.passages) and base.folder is not None:  # only additions
        if recent is not None:
            added = recent.merged(np.arange(len(recent.lengths)), added.numbered_from(len(recent.lengths)))
        if len(added.lengths) <= lexical.RECENT_MAX:
            return lexical.Segments(main, added, main_folder=base.folder / lexical.FOLDER)
        return main.merged(np.arange(len(main.lengths)), added.numbered_from(len(main.lengths)))
    whole = old.whole() if recent is not None else old
    return whole.merged(rows, added.numbered_from(len(rows)))


def _stored_lexicon(base: IndexData | None) -> lexical.Lexicon | lexical.Segments | None:
    meta = (base.manifest.get("lexicon") or {}) if base else {}
    if base is None or base.lexicon is None or meta.get("tokenizer") != tokenizer_fingerprint():
        return None
    return base.lexicon


def _embed(embedder: Embedder, texts: list[str], bar) -> np.ndarray:
    out = []
    for i in range(0, len(texts), BATCH):
        batch = texts[i : i + BATCH]
        out.append(np.asarray(embedder.passages(batch), dtype=np.float32))
        bar.update(len(batch))
    return np.concatenate(out) if out else np.zeros((0, embedder.dim), np.float32)
