"""`newsbot feedback`'s text, and the export that `newsbot eval` reads once a person fills it in."""

from __future__ import annotations

import json

import pytest

from bot.core import messages
from bot.core.errors import NewsbotError
from bot.retrieval.evaluate import read_questions
from bot.state.report import export_feedback, feedback_text


def seed_votes(store):
    store.record_answer("a-worst", "slack", "Berapa nilai investasi Meta di Scale AI?", ("002_meta.txt",))
    store.record_answer("a-mild", "discord", "Who leads the superintelligence unit?", ("002_meta.txt", "003_x.txt"))
    store.record_answer("a-liked", "slack", "Siapa CTO baru Anthropic?", ("000_a.txt",))
    store.record_answer("a-silent", "slack", "Nobody voted on this", ("000_a.txt",))
    for user in ("u1", "u2", "u3"):
        store.vote("a-worst", user, "down")
    store.vote("a-mild", "u1", "down")
    store.vote("a-mild", "u2", "up")
    store.vote("a-liked", "u1", "up")


def test_feedback_text_without_votes_says_so(store):
    assert feedback_text(store) == messages.FEEDBACK_NONE


def test_feedback_text_gives_totals_and_the_most_down_voted_questions_first(store):
    seed_votes(store)
    text = feedback_text(store)
    assert text.splitlines()[0] == messages.FEEDBACK_TOTALS.format(up=2, down=4, answers=3)
    worst, mild = text.index("Berapa nilai investasi"), text.index("Who leads the superintelligence")
    assert worst < mild
    assert "003_x.txt" in text
    assert "Siapa CTO baru" not in text and "Nobody voted" not in text
    assert "Berapa nilai investasi" in feedback_text(store, limit=1)
    assert "Who leads" not in feedback_text(store, limit=1)


def test_export_writes_eval_questions_a_person_completes(store, tmp_path):
    seed_votes(store)
    path = tmp_path / "feedback.jsonl"
    assert export_feedback(store, path) == 3
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    by_q = {line["q"]: line for line in lines}
    assert set(by_q) == {
        "Berapa nilai investasi Meta di Scale AI?",
        "Who leads the superintelligence unit?",
        "Siapa CTO baru Anthropic?",
    }
    mild = by_q["Who leads the superintelligence unit?"]
    assert mild["sources"] == ["002_meta.txt", "003_x.txt"]
    assert (mild["expect"], mild["answer"], mild["votes"]) == ([], None, {"up": 1, "down": 1})

    with pytest.raises(NewsbotError, match='"expect" is empty'):  # eval refuses it until a person fills it in
        read_questions(path)
    for line in lines:
        line["expect"] = ["filled in by a person"]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    questions = read_questions(path)  # the extra fields are tolerated
    assert {q.q: q.sources for q in questions}["Who leads the superintelligence unit?"] == ("002_meta.txt", "003_x.txt")


def test_export_of_no_votes_writes_an_empty_file(store, tmp_path):
    path = tmp_path / "none.jsonl"
    assert export_feedback(store, path) == 0
    assert path.read_text(encoding="utf-8") == ""
