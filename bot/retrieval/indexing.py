"""Build or update the index: embed only new or changed files, drop removed ones.

`update_index` reads as its steps: list the seeds, decide what to re-embed, reuse the
vectors of unchanged files, chunk and embed the new ones, write a generation, read it back.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bot.core import messages
from bot.core.errors import IndexCorrupt, SeedsError
from bot.core.models import Article, IndexReport, Passage
from bot.ingest.naming import normalise
from bot.retrieval import calibration
from bot.retrieval.chunking import chunk
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.embedding import Embedder
from bot.retrieval.lexical import build_bm25
from bot.retrieval.loading import SeedFile, list_seed_files, parse_article
from bot.retrieval.store import FORMAT_VERSION, Archived, IndexData, in_memory, load_index, write_index, writer_lock

log = logging.getLogger(__name__)
CHUNKER_VERSION = 7  # bump when loading or chunking rules change: forces a rebuild
BATCH = 16


def chunking_params(config: RetrievalConfig) -> dict:
    return {
        "max_chars": config.chunk_max_chars,
        "overlap_sentences": config.chunk_overlap_sentences,
        "version": CHUNKER_VERSION,
    }


def seed_state(seeds: list[SeedFile]) -> dict[str, str]:
    return {s.source: s.digest for s in seeds}


def list_seeds(config: RetrievalConfig) -> list[SeedFile]:
    return list_seed_files(config.seeds_dir, max_bytes=config.max_file_bytes)


def is_fresh(manifest: dict | None, config: RetrievalConfig, embedder_name: str, seeds: list[SeedFile]) -> bool:
    """True if the index on disk matches the seeds, the model and the chunking settings."""
    return (
        bool(manifest)
        and not rebuild_reason(manifest, config, embedder_name)
        and ({**manifest["files"], **manifest.get("skipped", {})} == seed_state(seeds))
    )


def rebuild_reason(manifest: dict, config: RetrievalConfig, embedder_name: str) -> str:
    if manifest.get("format_version") != FORMAT_VERSION:
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
    archived: tuple[Archived, ...] = ()  # every indexed article's citation details, kept and new
    duplicates: tuple[tuple[str, str], ...] = ()  # (file, the file it repeats): not indexed


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

    One writer at a time: a second one waits for the first, then finds the index fresh.
    `current` (the index in memory) lends its vectors if the one on disk is gone.
    IndexWriteError if the index folder cannot be written.
    """
    with writer_lock(config.index_dir) as tmp:
        on_disk, damage = _read_on_disk(config.index_dir)
        seeds = list_seeds(config)
        if on_disk is not None and not force and is_fresh(on_disk.manifest, config, embedder.name, seeds):
            return on_disk, None  # another process brought it up to date while we waited
        base, rebuilt_because = _reusable(on_disk or current, damage, force, config, embedder.name)
        old_files = base.manifest["files"] if base else {}
        plan = plan_update(seeds, old_files, base.articles if base else {})
        if not plan.keep and not plan.articles:
            raise SeedsError(messages.SEEDS_EMPTY.format(path=config.seeds_dir))
        parts = reuse_vectors(base, plan.keep, embedder.dim) + embed_new(plan.articles, config, embedder, progress)
        write_generation(tmp, config, embedder, plan, parts)
        data = load_index(config.index_dir)  # read back: the same checks as any load
    return data, _report(plan, old_files, len(parts.passages), rebuilt_because, calibration.describe(data.manifest))


def _report(
    plan: Plan, old_files: Mapping[str, str], passages: int, rebuilt_because: str, calibrated: str
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
        calibration=calibrated,
    )


def _read_on_disk(index_dir: Path) -> tuple[IndexData | None, str]:
    """The index on disk, or None and what is wrong with it."""
    try:
        return load_index(index_dir), ""
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


def plan_update(
    seeds: list[SeedFile], old_files: Mapping[str, str], old_articles: Mapping[str, Archived] | None = None
) -> Plan:
    """Keep files whose digest is unchanged; read the others, naming those that cannot be read.

    An article whose link or text an earlier file already has is a duplicate: named, not indexed
    (unchanged files claim their link and text first, so an old citation never moves to a new copy).
    """
    old_articles = old_articles or {}
    keep = {s.source for s in seeds if old_files.get(s.source) == s.digest and s.source in old_articles}
    archived = [old_articles[source] for source in sorted(keep)]
    owner = {key: a.info.source for a in archived for key in _keys(a)}
    articles, skipped, duplicates = [], [], []
    for seed in seeds:
        if seed.source in keep:
            continue
        article = parse_article(seed)
        if isinstance(article, str):
            log.warning(messages.SKIPPED_FILE.format(source=seed.source, reason=article))
            skipped.append((seed.source, article))
            continue
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
    return Plan(seed_state(seeds), frozenset(keep), tuple(articles), tuple(skipped), tuple(archived), tuple(duplicates))


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


def reuse_vectors(base: IndexData | None, keep: frozenset[str], dim: int) -> Parts:
    """The passages of unchanged files, with the vectors already computed for them."""
    rows = [i for i, p in enumerate(base.passages) if p.source in keep] if base else []
    if not rows:
        return Parts.empty(dim)
    sentence_rows = np.concatenate(
        [np.arange(base.sentence_start[i], base.sentence_start[i] + len(base.sentences[i])) for i in rows]
    )
    return Parts(
        tuple(base.passages[i] for i in rows),
        tuple(base.sentences[i] for i in rows),
        base.passage_vectors[rows],
        base.sentence_vectors[sentence_rows],
    )


def embed_new(articles: tuple[Article, ...], config: RetrievalConfig, embedder: Embedder, progress: bool) -> Parts:
    """Chunk the new and changed articles, and embed each passage and each of its sentences."""
    passages, sentences = [], []
    for article in articles:
        for passage, spans in chunk(article, config.chunk_max_chars, config.chunk_overlap_sentences):
            passages.append(passage)
            sentences.append(tuple((s.start - passage.start, s.end - passage.start) for s in spans))
    if not passages:
        return Parts.empty(embedder.dim)
    texts = [embed_text(p) for p in passages]
    sentence_texts = [p.text[a:b] for p, spans in zip(passages, sentences, strict=True) for a, b in spans]
    log.info("embedding %d passages from %d files", len(texts), len(articles))
    vectors = _embed(embedder, texts + sentence_texts, progress)
    return Parts(tuple(passages), tuple(sentences), vectors[: len(texts)], vectors[len(texts) :])


def write_generation(tmp: Path, config: RetrievalConfig, embedder: Embedder, plan: Plan, parts: Parts) -> None:
    skipped = {source: plan.state[source] for source, _ in plan.skipped}
    manifest = {
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        "dim": embedder.dim,
        "chunking": chunking_params(config),
        "files": {source: digest for source, digest in plan.state.items() if source not in skipped},
        "skipped": skipped,
        "passages": len(parts.passages),
        "sentences": int(parts.sentence_vectors.shape[0]),
        "built_at": time.time(),
    }
    bm25 = build_bm25([embed_text(p) for p in parts.passages])
    # where off-topic questions land in this very index: a changed archive recalibrates itself
    built = in_memory(
        manifest, parts.passages, parts.sentences, parts.passage_vectors, parts.sentence_vectors, bm25, plan.archived
    )
    manifest["calibration"] = calibration.calibrate(built, embedder, config.top_k)
    write_index(
        tmp,
        manifest,
        parts.passages,
        parts.sentences,
        parts.passage_vectors,
        parts.sentence_vectors,
        bm25,
        plan.archived,
    )


def _embed(embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
    out = []
    with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not progress, leave=False) as bar:
        for i in range(0, len(texts), BATCH):
            batch = texts[i : i + BATCH]
            out.append(embedder.passages(batch))
            bar.update(len(batch))
    return np.concatenate(out)
