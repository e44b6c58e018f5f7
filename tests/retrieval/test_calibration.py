"""The decline calibration an index carries: computed at build time, recomputed when the archive
changes, and what keeps a pile of unrelated text from turning declines into answers."""

from __future__ import annotations

from bot.retrieval import calibration, questions, trust
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.engine import Engine
from bot.retrieval.search import search
from bot.retrieval.store import FORMAT_VERSION
from tests.conftest import make_settings
from tests.retrieval.test_trust import write_archive

# Hobbies of a club: nothing about coffee, ferries or libraries, and nothing the questions below ask.
_WHO = ["The chess club", "An astronomer", "My aunt", "The hiking group", "A young violinist", "The referee"]
_DID = ["knitted a red scarf", "practised scales for an hour", "climbed the steep ridge", "studied an old opening"]
_WHEN = ["on Sunday morning", "on the last train", "before dinner", "at the town hall", "at midnight"]
UNRELATED = " ".join(f"{w} {d} {t}." for w in _WHO for d in _DID for t in _WHEN)  # 120 sentences

# The archive (tests/retrieval/test_trust.py) names Sari Wulandari and Bergen but says nothing of these.
UNCOVERED = (
    "What does Sari Wulandari think about the weather?",
    "What music does Sari Wulandari like?",
    "What is the best fishing spot near Bergen?",
)


def open_engine(root, embedder) -> tuple[Engine, object]:
    engine = Engine(RetrievalConfig.from_settings(make_settings(root)), embedder)
    report = engine.refresh()
    return engine, report


def test_the_manifest_records_the_calibration_and_the_report_says_so(tmp_path, embedder):
    write_archive(tmp_path)
    engine, report = open_engine(tmp_path, embedder)
    manifest = engine.data.manifest
    cal = manifest["calibration"]
    assert manifest["format_version"] == FORMAT_VERSION >= 2
    assert cal["method"] == calibration.METHOD and cal["probes"] == len(calibration.PROBES) >= 30
    assert -1.0 < cal["offtopic_median"] <= cal["offtopic_p90"] < 1.0
    assert report.calibration == calibration.describe(manifest)
    assert f"{len(calibration.PROBES)} off-topic probe questions" in report.calibration
    # the line the questions are measured against is this index's own
    question = "Who runs Kopi Lembah Hijau?"
    result = search(engine.data, embedder.query(question), question, engine.config.top_k)
    asked = questions.analyze(question)
    v = trust.judge(asked, result, engine.data, engine.min_relevance)
    first = result.hits[0]
    plain = trust.plain_answer(asked, engine.data.passages[first.index].text, first.highlight)
    assert v.score == calibration.similarity(result) - cal["offtopic_median"] + (trust.ANSWER_BONUS if plain else 0)


def test_the_calibration_is_recomputed_when_the_archive_changes(tmp_path, embedder):
    write_archive(tmp_path)
    engine, _ = open_engine(tmp_path, embedder)
    before = engine.data.manifest["calibration"]
    (tmp_path / "seeds" / "club_notes.txt").write_text(f"Club notes\n\n{UNRELATED}\n", encoding="utf-8")
    report = engine.refresh()
    after = engine.data.manifest["calibration"]
    assert report.added == ("club_notes.txt",) and report.calibration
    assert after["offtopic_median"] != before["offtopic_median"]
    recomputed = calibration.calibrate(engine.data, embedder, engine.config.top_k)
    assert after["offtopic_median"] == recomputed["offtopic_median"]


def test_unrelated_sentences_do_not_turn_declines_into_answers(tmp_path, embedder):
    """The old rule measured the best sentence against the index median, which unrelated text
    lowers: uncovered questions then crossed its line. Declined questions stay declined here."""
    write_archive(tmp_path)
    engine, _ = open_engine(tmp_path, embedder)
    before = {q: engine.ask(q) for q in UNCOVERED}
    (tmp_path / "seeds" / "club_notes.txt").write_text(f"Club notes\n\n{UNRELATED}\n", encoding="utf-8")
    engine.refresh()
    after = {q: engine.ask(q) for q in UNCOVERED}
    declined_before = [q for q in UNCOVERED if not before[q].answered]
    assert declined_before
    assert not [q for q in declined_before if after[q].answered]
    for q in UNCOVERED:  # the text added nothing closer to these questions: no score rose by more than noise
        assert after[q].confidence <= before[q].confidence + 0.02, q
