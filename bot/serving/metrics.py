"""Prometheus metrics, in a registry of their own so tests and several engines don't collide."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

OUTCOMES = ("answered", "declined", "rate_limited", "busy", "shutting_down", "error")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter(
            "newsbot_questions",
            "Questions received, by platform and outcome.",
            ["platform", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "newsbot_answer_latency_seconds",
            "Time to answer a question, by platform.",
            ["platform"],
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.passages = Gauge("newsbot_index_passages", "Passages in the loaded index.", registry=self.registry)
        self.last_index_update = Gauge(
            "newsbot_index_last_update_timestamp_seconds",
            "Unix time the loaded index was last built or updated.",
            registry=self.registry,
        )
        self.feed_fetches = Counter(
            "newsbot_feed_fetch",
            "Feed polls, by feed and outcome (new, not_modified, unchanged, failed, backoff).",
            ["feed", "outcome"],
            registry=self.registry,
        )
        self.feed_articles_added = Counter(
            "newsbot_feed_articles_added",
            "Articles saved from feed entries, by feed.",
            ["feed"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
