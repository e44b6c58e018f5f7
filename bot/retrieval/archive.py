"""What the archive holds, as people ask for it: the newest articles."""

from __future__ import annotations

from bot.core.models import SourceInfo
from bot.retrieval.store import IndexData


def latest(data: IndexData | None, count: int = 10) -> list[SourceInfo]:
    """The newest articles by their published date; undated ones after every dated one, by name."""
    if data is None:
        return []
    infos = [a.info for a in data.articles.values()]
    dated = sorted((i for i in infos if i.published), key=lambda i: (i.published, i.source), reverse=True)
    undated = sorted((i for i in infos if not i.published), key=lambda i: i.source)
    return (dated + undated)[:count]
