"""Build or update the index: embed only new or changed files, drop removed ones."""

from __future__ import annotations

import logging
import time

import numpy as np
from tqdm import tqdm

from bot.core import messages
from bot.core.errors import IndexWriteError, SeedsError
from bot.core.models import IndexReport, Passage
from bot.core.settings import Settings
from bot.retrieval.chunking import chunk
from bot.retrieval.embedding import Embedder
from bot.retrieval.lexical import build_bm25
from bot.retrieval.loading import SeedFile, list_seed_files, parse_article
from bot.retrieval.store import FORMAT_VERSION, IndexData, write_index

log = logging.getLogger(__name__)
CHUNKER_VERSION = 5  # bump when loading or chunking rules change: forces a rebuild
BATCH = 16


def chunking_params(settings: Settings) -> dict:
    return {
        "max_chars": settings.chunk_max_chars,
        "overlap_sentences": settings.chunk_overlap_sentences,
        "version": CHUNKER_VERSION,
    }


def seed_state(seeds: list[SeedFile]) -> dict[str, str]:
    return {s.source: s.digest for s in seeds}


def is_fresh(manifest: dict | None, settings: Settings, embedder_name: str, seeds: list[SeedFile]) -> bool:
    """True if the index on disk matches the seeds, the model and the chunking settings."""
    return (
        bool(manifest)
        and not rebuild_reason(manifest, settings, embedder_name)
        and ({**manifest["files"], **manifest.get("skipped", {})} == seed_state(seeds))
    )


def rebuild_reason(manifest: dict, settings: Settings, embedder_name: str) -> str:
    if manifest.get("format_version") != FORMAT_VERSION:
        return messages.INDEX_REBUILD_FORMAT
    if manifest.get("model") != embedder_name:
        return messages.INDEX_REBUILD_MODEL.format(old=manifest.get("model"), new=embedder_name)
    if manifest.get("chunking") != chunking_params(settings):
        return messages.INDEX_REBUILD_CHUNKING
    return ""


def embed_text(p: Passage) -> str:
    """The title goes with the passage: it names the story a passage belongs to."""
    return f"{p.title}\n{p.text}"


def update_index(
    settings: Settings, embedder: Embedder, current: IndexData | None, progress: bool = False, rebuilt_because: str = ""
) -> tuple[IndexData | None, IndexReport]:
    """Bring the index in line with the seeds folder; returns what is now on disk and a report."""
    seeds = list_seed_files(settings.seeds_dir)
    old_files: dict[str, str] = {}
    if current is not None:
        reason = rebuild_reason(current.manifest, settings, embedder.name)
        if reason:
            rebuilt_because = reason
            current = None
        else:
            old_files = current.manifest["files"]
    new_state = seed_state(seeds)

    skipped: dict[str, str] = {}
    keep, todo = [], []
    for seed in seeds:
        if old_files.get(seed.source) == seed.digest:
            keep.append(seed.source)
            continue
        article = parse_article(seed)
        if isinstance(article, str):
            skipped[seed.source] = new_state[seed.source]
            log.warning(messages.SKIPPED_FILE.format(source=seed.source, reason=article))
            todo.append((seed.source, None, article))
        else:
            todo.append((seed.source, article, ""))
    if not keep and not any(a for _, a, _ in todo):
        raise SeedsError(messages.SEEDS_EMPTY.format(path=settings.seeds_dir))

    # reuse what is already embedded for unchanged files
    passages: list[Passage] = []
    sentences: list[tuple] = []
    pvecs, svecs = [], []
    if current is not None:
        kept = set(keep)
        for i, p in enumerate(current.passages):
            if p.source in kept:
                passages.append(p)
                sentences.append(current.sentences[i])
                pvecs.append(current.passage_vectors[i : i + 1])
                s0 = current.sentence_start[i]
                svecs.append(current.sentence_vectors[s0 : s0 + len(current.sentences[i])])

    new_passages, new_sentences = [], []
    for _, article, _ in todo:
        if article is None:
            continue
        for passage, spans in chunk(article, settings.chunk_max_chars, settings.chunk_overlap_sentences):
            new_passages.append(passage)
            new_sentences.append(tuple((s.start - passage.start, s.end - passage.start) for s in spans))
    if new_passages:
        texts = [embed_text(p) for p in new_passages]
        log.info("embedding %d passages from %d files", len(texts), sum(1 for _, a, _ in todo if a is not None))
        sentence_texts = [p.text[a:b] for p, spans in zip(new_passages, new_sentences, strict=False) for a, b in spans]
        vecs = _embed(embedder, texts + sentence_texts, progress)
        pvecs.append(vecs[: len(texts)])
        svecs.append(vecs[len(texts) :])
        passages.extend(new_passages)
        sentences.extend(new_sentences)

    dim = embedder.dim
    passage_vectors = np.concatenate(pvecs) if pvecs else np.zeros((0, dim), np.float32)
    sentence_vectors = np.concatenate(svecs) if svecs else np.zeros((0, dim), np.float32)
    bm25 = build_bm25([embed_text(p) for p in passages])
    files = {src: digest for src, digest in new_state.items() if src not in skipped}
    manifest = {
        "format_version": FORMAT_VERSION,
        "model": embedder.name,
        "dim": dim,
        "chunking": chunking_params(settings),
        "files": files,
        "skipped": skipped,
        "passages": len(passages),
        "sentences": int(sentence_vectors.shape[0]),
        "built_at": time.time(),
    }
    try:
        write_index(settings.index_dir, manifest, passages, sentences, passage_vectors, sentence_vectors, bm25)
    except OSError as exc:
        raise IndexWriteError(
            messages.INDEX_NOT_WRITABLE.format(path=settings.index_dir, detail=exc.strerror or exc)
        ) from None
    from bot.retrieval.store import load_index  # read back what was written: the same checks as any load

    data = load_index(settings.index_dir)
    report = IndexReport(
        added=tuple(s for s, a, _ in todo if a is not None and s not in old_files),
        changed=tuple(s for s, a, _ in todo if a is not None and s in old_files),
        removed=tuple(s for s in old_files if s not in new_state),
        skipped=tuple(f"{s}: {why}" for s, a, why in todo if a is None),
        unchanged=len(keep),
        passages=len(passages),
        rebuilt_because=rebuilt_because,
    )
    return data, report


def _embed(embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
    out = []
    with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not progress, leave=False) as bar:
        for i in range(0, len(texts), BATCH):
            batch = texts[i : i + BATCH]
            out.append(embedder.passages(batch))
            bar.update(len(batch))
    return np.concatenate(out)
