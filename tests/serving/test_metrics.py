"""What /metrics exposes, read back with Prometheus' own text parser."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families

from bot.serving.metrics import OUTCOMES, Metrics
from bot.serving.service import Service
from tests.conftest import make_settings


def families(metrics: Metrics) -> dict:
    return {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}


def test_the_exposition_names_types_and_labels():
    m = Metrics()
    m.questions.labels("slack", "answered").inc()
    m.questions.labels("discord", "busy").inc(3)
    m.latency.labels("slack").observe(0.03)
    m.passages.set(64)
    m.last_index_update.set(1_764_000_000)
    found = families(m)
    assert found["newsbot_questions"].type == "counter"
    assert found["newsbot_answer_latency_seconds"].type == "histogram"
    assert found["newsbot_index_passages"].type == "gauge"
    assert found["newsbot_index_last_update_timestamp_seconds"].type == "gauge"
    totals = {
        (s.labels["platform"], s.labels["outcome"]): s.value
        for s in found["newsbot_questions"].samples
        if s.name == "newsbot_questions_total"
    }
    assert totals == {("slack", "answered"): 1, ("discord", "busy"): 3}
    latency = {
        s.name: s for s in found["newsbot_answer_latency_seconds"].samples if s.labels.get("le") in (None, "0.05")
    }
    assert latency["newsbot_answer_latency_seconds_count"].value == 1
    assert latency["newsbot_answer_latency_seconds_bucket"].value == 1  # 0.03 s is under the 0.05 s bucket
    assert found["newsbot_index_passages"].samples[0].value == 64


def test_every_outcome_the_dispatcher_records_is_listed():
    assert {"answered", "declined", "rate_limited", "busy", "shutting_down", "error"} == set(OUTCOMES)


def test_each_metrics_object_has_a_registry_of_its_own():
    a, b = Metrics(), Metrics()  # a second one must not raise "Duplicated timeseries"
    a.questions.labels("slack", "answered").inc()
    assert families(b)["newsbot_questions"].samples == []
    assert [s.value for s in families(a)["newsbot_questions"].samples if s.name.endswith("_total")] == [1]


def test_the_service_reports_the_loaded_index(seeds_engine, tmp_path):
    service = Service(
        make_settings(tmp_path, SLACK_BOT_TOKEN="xoxb-1-x", SLACK_SIGNING_SECRET="s" * 32),
        seeds_engine,
        ["slack"],
        "http",
    )
    found = families(service.metrics)
    manifest = json.loads((seeds_engine.config.index_dir / "current" / "manifest.json").read_text())
    assert found["newsbot_index_passages"].samples[0].value == manifest["passages"] == seeds_engine.passage_count
    assert found["newsbot_index_last_update_timestamp_seconds"].samples[0].value > 1.7e9
