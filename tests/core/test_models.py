"""The JSON contract of `newsbot ask --json` (Answer.to_dict)."""

from __future__ import annotations

import json

import pytest

from bot.core.models import Answer, Citation

PASSAGE_KEYS = ["rank", "source", "title", "text", "highlight", "similarity", "url", "site", "published"]


def cite(rank: int, source: str, similarity: float) -> Citation:
    text = f"Kalimat pertama. Passage {rank} of {source}."
    return Citation(rank, source, "Judul / Title", text, f"Passage {rank} of {source}.", similarity)


def round_trip(answer: Answer) -> dict:
    """What a script reading `ask --json` sees."""
    return json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))


def test_answered_passages_come_in_cited_order_with_a_named_similarity():
    # the fused ranking put a passage with a lower cosine similarity first
    answer = Answer("Siapa CTO baru?", True, (cite(1, "b.txt", 0.61), cite(2, "a.txt", 0.83), cite(3, "b.txt", 0.7)))
    out = round_trip(answer)
    assert list(out) == ["question", "answered", "reason", "answer", "passages"]
    assert out["question"] == "Siapa CTO baru?" and out["answered"] is True
    assert out["reason"] is None
    assert [list(p) for p in out["passages"]] == [PASSAGE_KEYS] * 3
    assert [p["rank"] for p in out["passages"]] == [1, 2, 3]
    assert [p["similarity"] for p in out["passages"]] == [0.61, 0.83, 0.7]
    assert [p["source"] for p in out["passages"]] == ["b.txt", "a.txt", "b.txt"]
    assert all(p["highlight"] in p["text"] for p in out["passages"])


def test_passages_are_ordered_by_rank_whatever_order_they_were_given_in():
    answer = Answer("q", True, (cite(2, "a.txt", 0.9), cite(1, "b.txt", 0.5)))
    assert [p["rank"] for p in round_trip(answer)["passages"]] == [1, 2]


@pytest.mark.parametrize("reason", ["not_covered", "empty", "too_long"])
def test_a_decline_says_why(reason):
    out = round_trip(Answer("Apa cuaca di Jakarta?", False, reason=reason))
    assert out == {
        "question": "Apa cuaca di Jakarta?",
        "answered": False,
        "reason": reason,
        "answer": None,
        "passages": [],
    }


def test_text_outside_ascii_is_kept_as_written():
    answer = Answer("Qu'a dit l'équipe? 😀", True, (cite(1, "ünï.txt", 0.5),))
    line = json.dumps(answer.to_dict(), ensure_ascii=False)
    assert "équipe? 😀" in line and "ünï.txt" in line
