"""`newsbot feedback`: totals and the most down-voted questions, and an export for `newsbot eval`."""

from __future__ import annotations

import json
from pathlib import Path

from bot.core import messages
from bot.state.api import Store


def feedback_text(store: Store, limit: int = 10) -> str:
    totals, worst = store.feedback(limit)
    if not totals["answers"]:
        return messages.FEEDBACK_NONE
    lines = [messages.FEEDBACK_TOTALS.format(**totals)]
    if not worst:
        lines.append(messages.FEEDBACK_NO_DOWN)
        return "\n".join(lines)
    lines.append(messages.FEEDBACK_WORST)
    for row in worst:
        lines.append(f"  {row.down:>3} 👎 {row.up:>3} 👍  {row.question}")
        lines.append(f"             {row.platform}; cited: {', '.join(row.sources) or '-'}")
    return "\n".join(lines)


def export_feedback(store: Store, path: Path) -> int:
    """Write one `newsbot eval` question a line per voted answer; returns how many.

    The cited sources become the expected sources; `expect` is left empty for a person to fill
    in (`newsbot eval` refuses an in-scope line without one, naming the line), `answer` is null.
    The votes, platform and answer id ride along as extra fields, which `newsbot eval` ignores.
    """
    rows = store.feedback_rows()
    lines = [
        json.dumps(
            {
                "q": row.question,
                "sources": list(row.sources),
                "expect": [],
                "answer": None,
                "votes": {"up": row.up, "down": row.down},
                "platform": row.platform,
                "answer_id": row.answer_id,
            },
            ensure_ascii=False,
        )
        for row in rows
    ]
    path = Path(path)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)
