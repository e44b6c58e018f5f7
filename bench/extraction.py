"""Article extraction on saved news pages: is the body kept, the page furniture gone, the title, date and link right?

The pages and what each should yield are in tests/ingest/site/ (expectations.json); the pages are
written to look like real news sites in English, Indonesian and French, plus pages that are not
articles (a home page, a login page), which must be refused. Prints a table and writes
bench/extraction.json.

    .venv/bin/python bench/extraction.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.ingest.extract import NotAnArticle, extract_page  # noqa: E402

SITE = ROOT / "tests" / "ingest" / "site"
CHECKS = ("body", "furniture", "title", "date", "link")


def present(phrase: str, text: str) -> bool:
    """A long phrase anywhere in the text; a short one (a menu item) as a line of its own."""
    if len(phrase) >= 20:
        return " ".join(phrase.split()).casefold() in " ".join(text.split()).casefold()
    return any(line.strip().casefold() == phrase.casefold() for line in text.splitlines())


def judge(name: str, expected: dict) -> dict:
    html = (SITE / name).read_text(encoding="utf-8")
    started = time.perf_counter()
    try:
        got = extract_page(html, expected["given_url"])
    except NotAnArticle as exc:
        got, refused = None, exc.reason
    else:
        refused = None
    ms = (time.perf_counter() - started) * 1000
    if not expected["article"]:
        ok = got is None
        row = dict.fromkeys(CHECKS, ok)
        return {"page": name, **row, "ok": ok, "ms": round(ms, 1), "note": refused or "accepted a non-article page"}
    if got is None:
        return {"page": name, **dict.fromkeys(CHECKS, False), "ok": False, "ms": round(ms, 1), "note": refused}
    row = {
        "body": all(present(p, got.text) for p in expected["body"]),
        "furniture": not any(present(p, got.text) for p in expected["furniture"]),
        "title": got.title == expected["title"],
        "date": got.published == expected["published"],
        "link": got.url == expected["url"],
    }
    misses = [p for p in expected["furniture"] if present(p, got.text)]
    notes = [f"kept furniture {misses}" if misses else ""]
    notes += [f"title {got.title!r}" if not row["title"] else "", f"date {got.published}" if not row["date"] else ""]
    notes += [f"link {got.url}" if not row["link"] else "", "lost body text" if not row["body"] else ""]
    notes += [f"lang {got.lang}" if got.lang != expected.get("lang") else ""]
    return {"page": name, **row, "ok": all(row.values()), "ms": round(ms, 1), "note": "; ".join(n for n in notes if n)}


def run() -> dict:
    expectations = json.loads((SITE / "expectations.json").read_text(encoding="utf-8"))
    rows = [judge(name, exp) for name, exp in sorted(expectations.items())]
    totals = {check: sum(r[check] for r in rows) for check in (*CHECKS, "ok")}
    return {"pages": len(rows), "fully_right": totals["ok"], "totals": totals, "rows": rows}


def main() -> None:
    result = run()
    mark = {True: "yes", False: "NO"}
    print(f"{'page':22} {'body':>5} {'furn.':>5} {'title':>5} {'date':>5} {'link':>5} {'ms':>6}  note")
    for r in result["rows"]:
        cells = " ".join(f"{mark[r[c]]:>5}" for c in CHECKS)
        print(f"{r['page']:22} {cells} {r['ms']:>6}  {r['note'] or ''}")
    t = result["totals"]
    print("totals:", ", ".join(f"{c} {t[c]}/{result['pages']}" for c in CHECKS))
    print(f"{result['fully_right']}/{result['pages']} pages fully right")
    out = Path(__file__).with_suffix(".json")
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
