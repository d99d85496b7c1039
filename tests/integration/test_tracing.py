"""A text turn's trace: the HTTP request's server span (joined to the
caller's traceparent) → auth → the turn → lock wait, accept, history load,
model call, persistence; with the session's attributes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.helpers import bearer, create_business, start_customer
from voxa.kv.keys import turn_lease_key
from voxa.runtime import Runtime
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture(scope="session")
def span_exporter() -> InMemorySpanExporter:
    """The process's tracer provider (the OpenTelemetry global is set once per
    process), recording into memory."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(span_exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    span_exporter.clear()
    yield span_exporter
    span_exporter.clear()


def _one(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


def _parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_text_turn_span_tree(client: httpx.AsyncClient, runtime: Runtime,
                                   spans: InMemorySpanExporter) -> None:
    await create_business(client, "trace-co")
    s = await start_customer(client, "trace-co", "Tia")
    sid = s["session_id"]
    spans.clear()
    headers = {**bearer(s["session_token"]),
               "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"}
    r = await client.post(f"/v1/sessions/{sid}/messages", json={"text": "hello"},
                          headers=headers)
    assert r.status_code == 200, r.text
    got = list(spans.get_finished_spans())

    # the server span is FastAPI's own (native telemetry)
    http = _one(got, "POST /v1/sessions/{session_id}/messages")
    assert http.kind is SpanKind.SERVER
    assert http.context is not None and http.parent is not None
    assert format(http.context.trace_id, "032x") == CALLER_TRACE  # the caller's trace
    assert format(http.parent.span_id, "016x") == CALLER_SPAN

    by_id = {sp.context.span_id: sp for sp in got if sp.context is not None}

    def under_http(span: ReadableSpan) -> bool:
        parent = _parent_of(span)
        while parent is not None and parent in by_id:
            if parent == http.context.span_id:  # type: ignore[union-attr]
                return True
            parent = _parent_of(by_id[parent])
        return False

    auth = _one(got, "voxa.auth")
    turn = _one(got, "voxa.turn")
    assert under_http(auth) and under_http(turn)
    assert auth.end_time is not None and turn.start_time is not None
    assert auth.end_time <= turn.start_time
    assert auth.attributes is not None and auth.attributes["principal"] != "anonymous"
    async with runtime.db() as db:
        row = await sessions_repo.get(db, sid, scope=Scope.system())
    assert row is not None
    assert turn.attributes is not None and turn.context is not None
    assert turn.attributes["session_id"] == sid
    assert turn.attributes["business"] == row.business_id
    assert turn.attributes["role"] == "customer"
    assert turn.attributes["channel"] == "text"

    steps = ["voxa.turn.lock_wait", "voxa.turn.accept", "voxa.history_load",
             "voxa.turn.model_call", "voxa.turn.persist"]
    children = [_one(got, name) for name in steps]
    for child in children:
        assert _parent_of(child) == turn.context.span_id, child.name
        assert child.context is not None and child.context.trace_id == int(CALLER_TRACE, 16)
    for before, after in itertools.pairwise(children):
        assert before.end_time is not None and after.start_time is not None
        assert before.end_time <= after.start_time, (before.name, after.name)
    model_call = children[3].attributes
    assert model_call is not None and model_call["model"] == "scripted"


async def test_replayed_turn_has_no_model_call(client: httpx.AsyncClient,
                                               spans: InMemorySpanExporter) -> None:
    await create_business(client, "trace-idem")
    s = await start_customer(client, "trace-idem")
    url, h = f"/v1/sessions/{s['session_id']}/messages", bearer(s["session_token"])
    body = {"text": "once", "client_message_id": "t-1"}
    assert (await client.post(url, json=body, headers=h)).status_code == 200
    spans.clear()
    assert (await client.post(url, json=body, headers=h)).status_code == 200
    names = [sp.name for sp in spans.get_finished_spans()]
    assert "voxa.turn" in names and "voxa.turn.accept" in names
    assert "voxa.turn.model_call" not in names


async def test_a_turn_refused_while_waiting_still_ends_its_wait_span(
        client: httpx.AsyncClient, runtime: Runtime, spans: InMemorySpanExporter,
        monkeypatch: pytest.MonkeyPatch) -> None:
    await create_business(client, "trace-busy")
    s = await start_customer(client, "trace-busy")
    sid = s["session_id"]
    # Another process holds the session's turn for longer than this turn may wait.
    await runtime.store.set(turn_lease_key(sid), "another-process", ttl=30)
    monkeypatch.setattr(runtime, "settings",
                        runtime.settings.model_copy(update={"turn_wait_seconds": 0.3}))
    spans.clear()
    r = await client.post(f"/v1/sessions/{sid}/messages", json={"text": "hello?"},
                          headers=bearer(s["session_token"]))
    assert r.status_code == 429 and r.json()["error"]["code"] == "session_busy", r.text
    got = list(spans.get_finished_spans())
    turn, wait = _one(got, "voxa.turn"), _one(got, "voxa.turn.lock_wait")
    assert turn.context is not None and _parent_of(wait) == turn.context.span_id
    assert wait.end_time is not None and turn.end_time is not None
    assert wait.end_time <= turn.end_time
    assert "voxa.turn.model_call" not in [sp.name for sp in got]
