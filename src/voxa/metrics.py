"""Prometheus metrics, one registry per runtime (no module-level state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.sessions_started = Counter(
            "voxa_sessions_started_total", "Sessions started", ["role", "channel"], registry=r
        )
        self.sessions_ended = Counter(
            "voxa_sessions_ended_total",
            "Sessions ended or timed out",
            ["role", "reason"],
            registry=r,
        )
        self.sessions_active = Gauge(
            "voxa_sessions_active", "Active sessions (from the database)", ["role"], registry=r
        )
        self.request_latency = Histogram(
            "voxa_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.turn_latency = Histogram(
            "voxa_turn_duration_seconds",
            "Assistant turn latency",
            ["channel", "model"],
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
        )
        self.turn_fallbacks = Counter(
            "voxa_turn_fallbacks_total",
            "Turns answered with a fallback line because a stage failed or stalled",
            ["channel", "stage"],
            registry=r,
        )
        self.tokens = Counter("voxa_llm_tokens_total", "LLM tokens", ["model", "kind"], registry=r)
        self.agent_join_delay = Histogram(
            "voxa_agent_join_delay_seconds",
            "Room join to agent joined",
            registry=r,
            buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16),
        )
        self.errors = Counter("voxa_errors_total", "Errors by code", ["code"], registry=r)
        self.limited = Counter(
            "voxa_limited_total", "Requests refused by a rate limit or quota", ["limit"],
            registry=r,
        )
        self.cleanup_runs = Counter(
            "voxa_cleanup_runs_total", "Cleanup runs", ["outcome"], registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
