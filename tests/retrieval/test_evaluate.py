"""`newsbot eval`: reading question files and scoring answers, on hand-made answers."""

from __future__ import annotations

import json

import pytest

from bot.core.errors import NewsbotError
from bot.core.models import Answer, Citation
from bot.retrieval.evaluate import EvalQuestion, read_questions, score, sweep, sweep_lines

GOOD = [
    {"q": "How long is the Rotterdam bridge?", "lang": "en", "sources": ["bridge_en.txt"], "expect": ["820"]},
    {"q": "Berapa harga beras?", "lang": "id", "sources": ["beras.txt"], "expect": ["14.000", "Rp 14"]},
    {"q": "Apa cuaca di Jakarta?", "lang": "id", "sources": [], "expect": []},
    {"q": "Who won the match?", "sources": []},
]


def write(tmp_path, lines: list[str]):
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_good_file_is_read_in_order_skipping_blank_lines(tmp_path):
    path = write(
        tmp_path, [json.dumps(GOOD[0]), "", json.dumps(GOOD[1], ensure_ascii=False), "  ", *map(json.dumps, GOOD[2:])]
    )
    questions = read_questions(path)
    assert [q.q for q in questions] == [row["q"] for row in GOOD]
    assert questions[1] == EvalQuestion("Berapa harga beras?", ("beras.txt",), ("14.000", "Rp 14"), "id")
    assert [q.in_scope for q in questions] == [True, True, False, False]
    assert questions[3].lang == "" and questions[3].expect == ()


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ('{"q": "Who?", "sources": ["a.txt"], "expect": ["x"]', "Expecting"),  # cut short
        ('["Who?", ["a.txt"]]', "expected a JSON object, not list"),
        ('"Who?"', "expected a JSON object, not str"),
        ('{"question": "Who?", "sources": []}', '"q" (the question) is missing'),
        ('{"q": "   ", "sources": []}', '"q" (the question) is missing or empty'),
        ('{"q": "Who?", "sources": "a.txt", "expect": ["x"]}', '"sources" must be a list of non-empty strings'),
        ('{"q": "Who?", "sources": ["a.txt"], "expect": "Patil"}', '"expect" must be a list of non-empty strings'),
        ('{"q": "Who?", "sources": ["a.txt"], "expect": [""]}', '"expect" must be a list of non-empty strings'),
        ('{"q": "Who?", "sources": ["a.txt"], "expect": []}', "an in-scope question needs"),
        ('{"q": "Who?", "sources": [null]}', '"sources" must be a list'),
    ],
)
def test_a_bad_line_is_named_with_what_is_wrong(tmp_path, bad, says):
    path = write(tmp_path, [json.dumps(GOOD[0]), "", bad, json.dumps(GOOD[2])])
    with pytest.raises(NewsbotError) as caught:
        read_questions(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, line 3: ")
    assert says in message
    assert '"sources"' in message and '"expect"' in message  # the format, to copy


def test_files_with_no_questions_or_no_text_are_named(tmp_path):
    with pytest.raises(NewsbotError, match="holds no questions"):
        read_questions(write(tmp_path, ["", "   "]))
    with pytest.raises(NewsbotError, match=r"Cannot read .*missing\.jsonl"):
        read_questions(tmp_path / "missing.jsonl")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b'{"q": "\xff\xfe"}\n')
    with pytest.raises(NewsbotError, match="not UTF-8"):
        read_questions(binary)


def cite(rank: int, source: str, text: str, highlight: str) -> Citation:
    assert highlight in text
    return Citation(rank, source, "Title", text, highlight, 0.5)


def answered(question: str, *citations: Citation) -> Answer:
    return Answer(question, True, tuple(citations))


def test_score_counts_each_metric_from_hand_made_answers():
    questions = [
        EvalQuestion("bridge length", ("bridge_en.txt", "bridge_id.txt"), ("820 metres", "820 meter")),
        EvalQuestion("rice price", ("beras.txt",), ("Rp 14.000",)),
        EvalQuestion("tunnel length", ("tunnel.txt",), ("400 metres",)),
        EvalQuestion("bridge cost", ("bridge_en.txt",), ("95 million",)),
        EvalQuestion("weather", (), ()),
        EvalQuestion("football", (), ()),
    ]
    answers = [
        # answer at rank 2, in its highlight (the Indonesian spelling); right source first
        answered(
            "bridge length",
            cite(1, "bridge_id.txt", "Rotterdam membuka jembatan. Dibuka Jumat.", "Dibuka Jumat."),
            cite(2, "bridge_id.txt", "Panjangnya 820 meter. Murah.", "Panjangnya 820 meter."),
        ),
        # answer only at rank 4: no passage@3, reciprocal rank 1/4; wrong source first
        answered(
            "rice price",
            cite(1, "bridge_en.txt", "Bridge.", "Bridge."),
            cite(2, "tunnel.txt", "Tunnel.", "Tunnel."),
            cite(3, "grab.txt", "Grab.", "Grab."),
            cite(4, "beras.txt", "Naik. Harga Rp 14.000 per kilo.", "Naik."),
        ),
        # answer at rank 1, but its highlight is another sentence
        answered("tunnel length", cite(1, "tunnel.txt", "Utrecht digs. It is 400 metres long.", "Utrecht digs.")),
        Answer("bridge cost", False, reason="not_covered"),  # declined although in scope
        Answer("weather", False, reason="not_covered"),
        answered("football", cite(1, "grab.txt", "Grab moved.", "Grab moved.")),  # answered although out of scope
    ]
    report = score(questions, answers)
    assert (report.in_scope, report.out_of_scope) == (4, 2)
    assert report.passage_at_3 == 2  # bridge length, tunnel length
    assert report.highlight_at_3 == 1  # bridge length
    assert report.source_at_1 == 2  # bridge length, tunnel length
    assert report.mrr == pytest.approx((1 / 2 + 1 / 4 + 1) / 4)
    assert (report.oos_declined, report.in_scope_declined) == (1, 1)
    assert report.misses == [
        "no answer passage in top 3: 'rice price' (expected Rp 14.000)",
        "wrong source at 1: 'rice price' (bridge_en.txt)",
        "answer not in a highlight: 'tunnel length'",
        "declined: 'bridge cost'",
        "answered out-of-scope: 'football' (cited grab.txt)",
    ]
    lines = report.lines()
    first = lines.index("answer-passage@3    2/4")
    assert lines[first : first + 8] == [
        "answer-passage@3    2/4",
        "answer-highlight@3  1/4",
        "source@1            2/4",
        "MRR                 0.438",
        "out-of-scope declined  1/2",
        "in-scope declined      1/4",
        "false answers          50% (out-of-scope questions answered)",
        "false declines         25% (in-scope questions declined)",
    ]


def test_a_perfect_run_lists_no_misses_and_an_empty_one_scores_zero():
    question = EvalQuestion("Siapa CTO baru?", ("a.txt",), ("Patil",))
    perfect = score(
        [question], [answered(question.q, cite(1, "a.txt", "Rahul Patil jadi CTO.", "Rahul Patil jadi CTO."))]
    )
    assert (perfect.passage_at_3, perfect.highlight_at_3, perfect.source_at_1, perfect.mrr) == (1, 1, 1, 1.0)
    assert perfect.misses == [] and perfect.lines()[0] == "answer-passage@3    1/1"
    assert score([], []).mrr == 0.0


def test_answers_must_match_questions_one_for_one():
    question = EvalQuestion("q", (), ())
    with pytest.raises(ValueError):
        score([question, question], [Answer("q", False, reason="not_covered")])


def _cited(text: str) -> tuple[Citation, ...]:
    return (Citation(1, "a.txt", "T", text, text, 0.5),)


def test_false_answers_false_declines_short_answers_and_languages():
    questions = [
        EvalQuestion("How old is Budi?", ("a.txt",), ("41",), "en", answer="41"),
        EvalQuestion("Siapa pendiri Kelinci Emas?", ("a.txt",), ("Budi",), "id", answer="Budi Santoso"),
        EvalQuestion("Kapan kantor dibuka?", ("a.txt",), ("Mei",), "id", answer="Mei 2024"),
        EvalQuestion("Why?", ("a.txt",), ("because",), "en"),
        EvalQuestion("What is the weather?", (), (), "en"),
        EvalQuestion("Siapa presiden Peru?", (), (), "id"),
    ]
    answers = [
        Answer("q", True, _cited("Budi is 41 years old."), short="41 years"),  # holds the expected: right
        Answer("q", True, _cited("Budi Santoso founded it."), short="Santoso"),  # held by the expected: right
        Answer("q", True, _cited("Opened in May."), short="2023"),  # wrong
        Answer("q", False, reason="not_covered"),
        Answer("q", True, _cited("Sunny.")),  # a false answer
        Answer("q", False, reason="not_covered"),
    ]
    r = score(questions, answers)
    assert (r.short_expected, r.short_given, r.short_correct) == (3, 3, 2)
    assert r.false_answer_rate == 0.5 and r.false_decline_rate == 0.25
    assert r.by_lang == {"en": [2, 1, 1, 1], "id": [2, 0, 1, 0]}
    text = "\n".join(r.lines())
    assert "short answer           2/3 correct, 3/3 given" in text
    assert "false answers          50%" in text and "false declines         25%" in text
    assert "short answer '2023', expected 'Mei 2024'" in text


def test_sweep_counts_both_errors_at_each_threshold():
    questions = [
        EvalQuestion("a", ("a.txt",), ("x",)),
        EvalQuestion("b", ("a.txt",), ("x",)),
        EvalQuestion("c", (), ()),
        EvalQuestion("d", (), ()),
        EvalQuestion("", (), ()),  # empty: declined before scoring, never counted
    ]
    conf = [0.9, 0.3, 0.5, float("-inf"), None]
    answers = [Answer("q", c is not None and c >= 0.4, confidence=c) for c in conf]
    rows = sweep(questions, answers, steps=4)  # at the scores seen, each once: 0.3, 0.5, 0.9
    assert [r.threshold for r in rows] == [0.3, 0.5, 0.9]
    assert [(r.false_answers, r.false_declines) for r in rows] == [(1, 0), (1, 1), (0, 1)]
    many = sweep(questions * 10, answers * 10, steps=3)  # fewer rows than scores: spread by rank
    assert [r.threshold for r in many] == [0.3, 0.5, 0.9]
    assert all((r.out_of_scope, r.in_scope) == (2, 2) for r in rows)
    lines = sweep_lines(rows, current=0.4)
    assert lines[1].split()[:2] == ["0.300", "1/2"] and "0.400" in lines[-1]


def test_an_answer_field_must_be_a_string_or_null(tmp_path):
    path = write(tmp_path, [json.dumps({**GOOD[0], "answer": 820})])
    with pytest.raises(NewsbotError, match="line 1"):
        read_questions(path)
    assert read_questions(write(tmp_path, [json.dumps({**GOOD[0], "answer": None})]))[0].answer is None
