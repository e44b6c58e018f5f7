"""Check the evaluation sets: each line parses, sources exist, expected strings are verbatim in them.

Run from the repository root: `python eval/validate.py` (exit status 1 on any problem).
It also checks the strings against the text the bot indexes (after the loader strips page
furniture), so a string that only survives in a footer is reported too.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "eval/seeds_questions.jsonl": "seeds",
    "eval/seeds_uncovered.jsonl": "seeds",
    "eval/corpus2/questions.jsonl": "eval/corpus2/seeds",
    "eval/corpus2/uncovered.jsonl": "eval/corpus2/seeds",
}
TYPES = {"who", "how_much", "how_many", "when", "where", "what", "why"}
SHARED = [ROOT.parent / "shared/eval/dev_questions.jsonl", ROOT.parent / "shared/eval/dev_uncovered.jsonl"]


def indexed_text(path: Path) -> str | None:
    """The article text as the loader keeps it, or None when the package is not importable."""
    try:
        from bot.retrieval.loading import SeedFile, parse_article
    except ImportError:
        return None
    art = parse_article(SeedFile(path.name, path.read_bytes()))
    return art if isinstance(art, str) else f"{art.title}\n{art.text}"


def shared_questions() -> set[str]:
    out = set()
    for p in SHARED:
        if p.exists():
            out |= {json.loads(ln)["q"].casefold() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()}
    return out


def check(name: str, seeds: str, dev: set[str]) -> list[str]:
    errors: list[str] = []
    seeds_dir = ROOT / seeds
    raw = {p.name: p.read_text(encoding="utf-8") for p in seeds_dir.glob("*.txt")}
    kept = {n: indexed_text(seeds_dir / n) for n in raw}
    uncovered = "uncovered" in name
    langs: Counter[str] = Counter()
    seen: set[str] = set()
    for n, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), 1):
        where = f"{name}:{n}"
        try:
            row = json.loads(line)
        except ValueError as exc:
            errors.append(f"{where}: not JSON ({exc})")
            continue
        q, src, exp = row.get("q"), row.get("sources"), row.get("expect")
        if not isinstance(q, str) or not isinstance(src, list) or not isinstance(exp, list):
            errors.append(f"{where}: needs q (str), sources (list), expect (list)")
            continue
        langs[row.get("lang", "?")] += 1
        if q.casefold() in seen:
            errors.append(f"{where}: duplicate question {q!r}")
        seen.add(q.casefold())
        if q.casefold() in dev:
            errors.append(f"{where}: copied from the shared dev set: {q!r}")
        if uncovered:
            if src or exp or row.get("answer"):
                errors.append(f"{where}: an uncovered question has sources/expect/answer")
            continue
        if not src or not 1 <= len(exp) <= 3:
            errors.append(f"{where}: needs sources and 1-3 expect strings")
        if row.get("type") not in TYPES:
            errors.append(f"{where}: type {row.get('type')!r} not in {sorted(TYPES)}")
        if row.get("type") == "why" and row.get("answer") is not None:
            errors.append(f"{where}: a why question has no short answer")
        missing = [s for s in src if s not in raw]
        if missing:
            errors.append(f"{where}: no such source {missing}")
            continue
        strings = [*exp, *([row["answer"]] if row.get("answer") else [])]
        for s in strings:
            if not any(s in raw[f] for f in src):
                errors.append(f"{where}: {s!r} is in none of {src}")
            elif all(kept[f] is not None and s not in kept[f] for f in src):
                errors.append(f"{where}: {s!r} is in the file but not in the text the loader keeps")
    print(f"{name}: {sum(langs.values())} questions ({', '.join(f'{k} {v}' for k, v in sorted(langs.items()))})")
    return errors


def main() -> int:
    dev = shared_questions()
    errors = [e for name, seeds in SETS.items() for e in check(name, seeds, dev)]
    print("\n".join(errors) or "all checks passed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
