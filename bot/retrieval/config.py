"""What retrieval needs from the settings, and nothing else (no platform tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.core.settings import Settings


@dataclass(frozen=True)
class RetrievalConfig:
    """No defaults here: Settings holds them, so the two cannot drift apart."""

    seeds_dir: Path
    index_dir: Path
    embedding_model: str
    top_k: int
    chunk_max_chars: int
    chunk_overlap_sentences: int
    min_relevance: float | None  # the decline threshold on trust.Verdict.score; None: trust.DEFAULT_THRESHOLD
    max_question_chars: int
    max_file_bytes: int
    exact_search_max_passages: int
    seeds_check: str  # "files" or "folders"

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrievalConfig:
        """The one place where settings become the engine's configuration."""
        return cls(
            seeds_dir=settings.seeds_dir,
            index_dir=settings.index_dir,
            embedding_model=settings.embedding_model,
            top_k=settings.top_k,
            chunk_max_chars=settings.chunk_max_chars,
            chunk_overlap_sentences=settings.chunk_overlap_sentences,
            min_relevance=settings.min_relevance,
            max_question_chars=settings.max_question_chars,
            max_file_bytes=settings.max_file_bytes,
            exact_search_max_passages=settings.exact_search_max_passages,
            seeds_check=settings.seeds_check,
        )
