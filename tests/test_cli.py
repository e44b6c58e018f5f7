"""The `newsbot` command, run as a person runs it: a subprocess with environment settings."""

import json
import os
import subprocess
import sys

import pytest

from tests.retrieval.test_index import ALPHA, BETA, GAMMA


def run(tmp, *args, stdin=None, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "SLACK_", "DISCORD_"))}
    environ.update(NEWSBOT_SEEDS_DIR=str(tmp / "seeds"), NEWSBOT_INDEX_DIR=str(tmp / "index"), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp,
        env=environ,
        timeout=120,
    )


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "seeds").mkdir()
    (tmp / "seeds" / "alpha.txt").write_text(ALPHA, encoding="utf-8")
    (tmp / "seeds" / "beta.txt").write_text(BETA, encoding="utf-8")
    return tmp


def test_index_reports_what_it_did(corpus_dir):
    out = run(corpus_dir, "index")
    assert out.returncode == 0, out.stderr
    assert "Added: 2" in out.stdout and "alpha.txt" in out.stdout and "Passages: 2" in out.stdout
    assert "Dense search: exact search" in out.stdout  # the choice by size, and why
    assert "Languages (articles, as declared or detected): en 1, id 1" in out.stdout
    again = run(corpus_dir, "index")
    assert "up to date: 2 passages" in again.stdout


def test_ask_prints_highlights_with_markers_and_sources(corpus_dir):
    out = run(corpus_dir, "ask", "Where did Volcano Robotics open a lab?")
    assert out.returncode == 0, out.stderr
    # the short answer, then the sentence it comes from, then the sources
    assert out.stdout.startswith("Answer: Oslo [1]\n\n[1] Volcano Robotics opened a research lab in Oslo")
    assert "Sources:" in out.stdout
    assert "[1] beta.txt — Volcano Robotics Opens A Lab In Oslo" in out.stdout


def test_ask_json_contract(corpus_dir):
    out = run(corpus_dir, "ask", "--json", "Siapa yang membeli Kelinci Emas?")
    obj = json.loads(out.stdout)
    assert set(obj) == {"question", "answered", "reason", "answer", "passages"}
    assert obj["question"] == "Siapa yang membeli Kelinci Emas?" and obj["answered"] is True
    assert obj["reason"] is None
    p = obj["passages"][0]
    assert set(p) == {"rank", "source", "title", "text", "highlight", "similarity", "url", "site", "published"}
    assert (p["rank"], p["source"]) == (1, "alpha.txt")
    assert (p["url"], p["site"], p["published"]) == (None, None, None)  # a plain file says none of them
    assert isinstance(p["similarity"], float) and p["highlight"] in p["text"]
    declined = json.loads(run(corpus_dir, "ask", "--json", "What is the capital of Peru?").stdout)
    assert declined["answered"] is False and declined["reason"] == "not_covered" and declined["passages"] == []


def test_ask_json_reads_one_question_a_line_in_order(corpus_dir):
    questions = ["Where did Volcano Robotics open a lab?", "", "Siapa yang membeli Kelinci Emas?", "x" * 10_000]
    out = run(corpus_dir, "ask", "--json", "-", stdin="\n".join(questions) + "\n")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["question"] for r in rows[:3]] == questions[:3]
    assert rows[0]["passages"][0]["source"] == "beta.txt"
    assert rows[1]["answered"] is False and rows[3]["answered"] is False
    assert rows[2]["passages"][0]["source"] == "alpha.txt"


def test_ask_builds_a_missing_or_stale_index(tmp_path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "gamma.txt").write_text(GAMMA, encoding="utf-8")
    assert run(tmp_path, "ask", "--json", "Berapa harga kopi luwak?").returncode == 0
    (tmp_path / "seeds" / "beta.txt").write_text(BETA, encoding="utf-8")
    out = run(tmp_path, "ask", "--json", "Where did Volcano Robotics open a lab?")
    assert json.loads(out.stdout)["passages"][0]["source"] == "beta.txt"


def test_empty_and_long_questions_are_explained(corpus_dir):
    assert "Please ask a question" in run(corpus_dir, "ask", " ").stdout
    assert "10,000 characters long" in run(corpus_dir, "ask", "y" * 10_000).stdout


def test_bad_settings_and_missing_seeds_are_clear_errors(tmp_path):
    out = run(tmp_path, "ask", "hi", NEWSBOT_TOP_K="many")
    assert out.returncode == 2 and "NEWSBOT_TOP_K" in out.stderr and "Traceback" not in out.stderr
    out = run(tmp_path, "index")
    assert out.returncode == 1 and "does not exist" in out.stderr and "NEWSBOT_SEEDS_DIR" in out.stderr


def test_eval_prints_the_metrics_and_misses(corpus_dir, tmp_path):
    qs = tmp_path / "q.jsonl"
    qs.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {
                    "q": "Where did Volcano Robotics open a lab?",
                    "lang": "en",
                    "sources": ["beta.txt"],
                    "expect": ["Oslo"],
                },
                {
                    "q": "Siapa pendiri Startup Nusantara?",
                    "lang": "id",
                    "sources": ["alpha.txt"],
                    "expect": ["Budi Santoso"],
                },
                {"q": "How tall is Mount Everest?", "lang": "en", "sources": [], "expect": []},
                {
                    "q": "Where did Volcano Robotics open a lab?",
                    "lang": "en",
                    "sources": ["alpha.txt"],
                    "expect": ["Tokyo"],
                },
            ]
        )
        + "\n"
    )
    out = run(corpus_dir, "eval", str(qs))
    assert out.returncode == 0, out.stderr
    assert "answer-passage@3    2/3" in out.stdout
    assert "source@1            2/3" in out.stdout
    assert "out-of-scope declined  1/1" in out.stdout
    assert "no answer passage in top 3: 'Where did Volcano Robotics open a lab?' (expected Tokyo)" in out.stdout


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        ((), "Usage: newsbot"),  # no command: the help, as a usage error
        (("ask",), "Missing argument"),
        (("ask", "--bogus", "x"), "No such option: --bogus"),
        (("frobnicate",), "No such command"),
    ],
)
def test_usage_errors_are_explained_not_crashes(tmp_path, args, expect):
    out = run(tmp_path, *args)
    text = out.stdout + out.stderr
    assert out.returncode == 2, text
    assert expect in text and "Traceback" not in text and "unexpected error" not in text


def test_version_and_help(tmp_path):
    from bot import __version__

    out = run(tmp_path, "--version")
    assert out.returncode == 0 and out.stdout.strip() == f"newsbot {__version__}"
    helped = run(tmp_path, "--help")
    assert helped.returncode == 0 and "ask" in helped.stdout and "--version" in helped.stdout


def test_a_platform_command_without_its_token_names_the_setting(tmp_path):
    for command, setting in (("discord", "DISCORD_TOKEN"), ("slack", "SLACK_BOT_TOKEN")):
        out = run(tmp_path, command)
        assert out.returncode == 2
        # the whole message, naming where the token comes from, not a cut-off list
        assert out.stderr.startswith(f"Error: {setting} is not set.") and "docs/" in out.stderr, out.stderr


def test_a_misspelt_setting_is_named_with_the_likely_one(corpus_dir):
    out = run(corpus_dir, "ask", "Where did Volcano Robotics open a lab?", NEWSBOT_TOPK="1", NEWSBOT_LOG_LEVEL="debug")
    assert out.returncode == 0, out.stderr
    assert "NEWSBOT_TOPK is set but no setting has that name" in out.stderr
    assert "did you mean NEWSBOT_TOP_K?" in out.stderr


def test_the_short_answer_comes_first_and_the_words_follow_the_question():
    from bot.cli import render_text
    from bot.core.models import Answer, Citation
    from bot.core.settings import Settings

    cited = (
        Citation(1, "alpha.txt", "Kelinci Emas", "Dibeli senilai Rp 5 triliun.", "Dibeli senilai Rp 5 triliun.", 0.5),
    )
    settings = Settings(_env_file=None)
    text = render_text(Answer("Berapa nilainya?", True, cited, short="Rp 5 triliun", lang="id"), settings)
    assert text.splitlines()[:3] == ["Jawaban: Rp 5 triliun [1]", "", "[1] Dibeli senilai Rp 5 triliun."]
    assert "\nSumber:\n  [1] alpha.txt — Kelinci Emas" in text
    english = render_text(Answer("How much?", True, cited), settings)
    assert english.startswith("[1] Dibeli") and "\nSources:\n" in english  # no short answer: no answer line


def test_newsbot_ask_starts_without_what_it_does_not_use():
    """Each cost `newsbot ask` time at every start: bm25s with scipy 0.31 s, babel's dates 0.02 s.
    BM25 is scored from the index's counts; babel formats a cited date, imported with the first."""
    code = (
        "import sys; from bot import cli; from bot.retrieval import engine, search, store; "
        "print(sorted({'bm25s', 'scipy', 'babel.dates'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
