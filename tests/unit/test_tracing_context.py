"""Tracing is off unless configured; the trace context crosses from the API
into the voice job through the dispatch metadata (W3C traceparent)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from voxa import tracing
from voxa.infra.livekit_tokens import LiveKitTokens, TokenRequest
from voxa.settings import Settings

SECRET = "s" * 40


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, **kw)  # type: ignore[arg-type]


def test_off_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "VOXA_TRACING"):
        monkeypatch.delenv(var, raising=False)
    assert not tracing.tracing_enabled(_settings(tmp_path))
    assert tracing.setup_tracing(_settings(tmp_path), service="voxa-test") is None


def test_on_with_the_standard_endpoint_or_voxa_tracing(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert tracing.tracing_enabled(_settings(tmp_path))
    assert not tracing.tracing_enabled(_settings(tmp_path, tracing=False))  # explicit off wins
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT")
    monkeypatch.setenv("VOXA_TRACING", "1")
    assert Settings(data_dir=tmp_path).tracing is True
    assert tracing.tracing_enabled(Settings(data_dir=tmp_path))


def test_no_traceparent_without_a_recording_span() -> None:
    assert tracing.inject_metadata({"session_id": "s1"}) == {"session_id": "s1"}


def test_dispatch_metadata_carries_the_trace_into_the_job() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()  # local: the global provider is not needed here
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    api_tracer = provider.get_tracer("api")
    tokens = LiveKitTokens(url="ws://127.0.0.1:7880", api_key="key", api_secret=SECRET,
                           agent_name="voxa-agent", ttl=timedelta(minutes=5))
    with api_tracer.start_as_current_span("HTTP POST /v1/sessions") as request_span:
        token = tokens.mint(TokenRequest(
            room_name="room", role="customer", user_id="u1", display_name="U",
            business_slug="co", session_id="sess-1", timestamp_ms=1))
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    (dispatch,) = claims["roomConfig"]["agents"]
    metadata = dispatch["metadata"]
    assert json.loads(metadata)["session_id"] == "sess-1"
    assert json.loads(metadata)["traceparent"].startswith("00-")

    # the job process: the metadata is all it has
    parent = tracing.context_from_metadata(metadata)
    with provider.get_tracer("job").start_as_current_span("voxa.voice.job", context=parent):
        pass
    (job,) = [s for s in exporter.get_finished_spans() if s.name == "voxa.voice.job"]
    assert job.context is not None and job.parent is not None
    assert job.context.trace_id == request_span.get_span_context().trace_id
    assert job.parent.span_id == request_span.get_span_context().span_id
    assert job.parent.is_remote


@pytest.mark.parametrize("metadata", ["", "not json", "[1]", '{"traceparent": 5}',
                                      '{"traceparent": "00-zz-zz-01"}'])
def test_unreadable_metadata_starts_a_new_trace(metadata: str) -> None:
    parent = tracing.context_from_metadata(metadata)
    assert not trace.get_current_span(parent).get_span_context().is_valid
