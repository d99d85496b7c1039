"""The text channel: one turn per POST, persisted before the answer, serialized
per session, idempotent by client_message_id, isolated under concurrency."""

from __future__ import annotations

import asyncio
import json
import random

import httpx
import pytest
from livekit.agents import APIConnectionError

from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.agent.fallback import MODEL_FAILED, TICKET_OFFER
from voxa.agent.scripted_llm import ScriptedLLM, ScriptedReply, echo, last_user_text
from voxa.runtime import Runtime
from voxa.storage.repos import messages as messages_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope


async def _history(rt: Runtime, sid: str) -> list[tuple[str, str]]:
    async with rt.db() as db:
        rows = await messages_repo.list_messages(db, sid, scope=Scope.system(), limit=1000)
    return [(m.role, m.content) for m in rows]


async def test_turn_persists_both_messages_before_answering(client: httpx.AsyncClient,
                                                            runtime: Runtime) -> None:
    await create_business(client, "turn-co")
    s = await start_customer(client, "turn-co", "Tess")
    r = await client.post(f"/v1/sessions/{s['session_id']}/messages", json={"text": "hello"},
                          headers=bearer(s["session_token"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["message"]["content"] == "hello" and body["message"]["role"] == "user"
    assert body["reply"]["content"] == "You said: hello"
    assert body["reply"]["model_used"] == "scripted"
    assert body["reply"]["latency_ms"] >= 0 and body["reply"]["tokens_used"] > 0
    assert await _history(runtime, s["session_id"]) == [("user", "hello"),
                                                         ("assistant", "You said: hello")]
    got = (await client.get(f"/v1/sessions/{s['session_id']}",
                            headers=bearer(s["session_token"]))).json()
    assert got["message_count"] == 2 and got["last_activity_at"] > got["started_at"]
    listed = (await client.get(f"/v1/sessions/{s['session_id']}/messages",
                               headers=bearer(s["session_token"]))).json()["messages"]
    assert [m["role"] for m in listed] == ["user", "assistant"]


async def test_retry_with_client_message_id_is_idempotent(client: httpx.AsyncClient,
                                                          model: ScriptedLLM) -> None:
    await create_business(client, "idem-co")
    s = await start_customer(client, "idem-co")
    url, h = f"/v1/sessions/{s['session_id']}/messages", bearer(s["session_token"])
    body = {"text": "order cake", "client_message_id": "c-1"}
    first, second = await asyncio.gather(client.post(url, json=body, headers=h),
                                         client.post(url, json=body, headers=h))
    assert first.status_code == second.status_code == 200
    a, b = first.json(), second.json()
    assert a["message"]["id"] == b["message"]["id"] and a["reply"]["id"] == b["reply"]["id"]
    assert sorted([a["replayed"], b["replayed"]]) == [False, True]
    assert model.calls == 1
    got = (await client.get(f"/v1/sessions/{s['session_id']}", headers=h)).json()
    assert got["message_count"] == 2


async def test_sse_streams_deltas_and_persists(client: httpx.AsyncClient,
                                               runtime: Runtime) -> None:
    await create_business(client, "sse-co")
    s = await start_customer(client, "sse-co")
    events: list[tuple[str, dict[str, object]]] = []
    async with client.stream("POST", f"/v1/sessions/{s['session_id']}/messages/stream",
                             json={"text": "stream me please"},
                             headers=bearer(s["session_token"])) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        event = None
        async for line in r.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event:
                events.append((event, json.loads(line[6:])))
    kinds = [e for e, _ in events]
    assert kinds[0] == "message" and kinds[-1] == "done" and kinds.count("delta") >= 3
    text = "".join(str(d["text"]) for e, d in events if e == "delta")
    assert text == "You said: stream me please"
    done = events[-1][1]
    assert done["reply"]["content"] == text  # type: ignore[index]
    assert await _history(runtime, s["session_id"]) == [("user", "stream me please"),
                                                         ("assistant", text)]


async def test_200_concurrent_turns_over_50_sessions(client: httpx.AsyncClient,
                                                     runtime: Runtime) -> None:
    slugs = [f"load-{i}" for i in range(5)]
    for slug in slugs:
        await create_business(client, slug)
    sessions = [await start_customer(client, slugs[i % 5], f"c{i}") for i in range(50)]
    turns = [(s, f"{s['session_id'][-12:]}-turn{k}") for s in sessions for k in range(4)]
    random.Random(7).shuffle(turns)

    async def send(s: dict[str, str], text: str) -> dict[str, object]:
        r = await client.post(f"/v1/sessions/{s['session_id']}/messages", json={"text": text},
                              headers=bearer(s["session_token"]))
        assert r.status_code == 200, r.text
        return dict(r.json())

    results = await asyncio.gather(*(send(s, t) for s, t in turns))
    for (_s, text), res in zip(turns, results, strict=True):
        assert res["reply"]["content"] == f"You said: {text}"  # type: ignore[index]
    for s in sessions:
        history = await _history(runtime, s["session_id"])
        assert len(history) == 8
        tag = s["session_id"][-12:]
        # strictly alternating, each reply answers the message before it, all ours
        for (r1, c1), (r2, c2) in zip(history[::2], history[1::2], strict=True):
            assert r1 == "user" and r2 == "assistant" and c2 == f"You said: {c1}"
            assert c1.startswith(tag)
        async with runtime.db() as db:
            row = await sessions_repo.get(db, s["session_id"], scope=Scope.system())
        assert row is not None and row.message_count == 8


@pytest.fixture
def model() -> ScriptedLLM:
    def script(chat_ctx, tools):  # type: ignore[no-untyped-def]
        if "FAIL" in last_user_text(chat_ctx):
            return ScriptedReply(fail=APIConnectionError("provider down"))
        return echo(chat_ctx, tools)

    return ScriptedLLM(script, delay=0.01)


async def test_provider_failure_gets_the_fallback_line_in_one_session(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    """Never silent: a model that fails answers with the fallback line (counted),
    only in the session whose model call failed, and the conversation goes on."""
    await create_business(client, "fail-co")
    a = await start_customer(client, "fail-co")
    b = await start_customer(client, "fail-co")
    url_a = f"/v1/sessions/{a['session_id']}/messages"
    counted = runtime.metrics.turn_fallbacks.labels(channel="text", stage="model")
    before = counted._value.get()
    bad, good = await asyncio.gather(
        client.post(url_a, json={"text": "FAIL please", "client_message_id": "x1"},
                    headers=bearer(a["session_token"])),
        client.post(f"/v1/sessions/{b['session_id']}/messages", json={"text": "fine"},
                    headers=bearer(b["session_token"])),
    )
    assert bad.status_code == 200, bad.text
    reply = bad.json()["reply"]
    assert reply["content"] == model_failed_line_for_customer()
    assert reply["model_used"] == "fallback"
    assert good.status_code == 200 and good.json()["reply"]["content"] == "You said: fine"
    assert counted._value.get() == before + 1
    assert await _history(runtime, a["session_id"]) == [("user", "FAIL please"),
                                                        ("assistant", reply["content"])]
    # a retry of the same message replays the stored answer, it does not run again
    r = await client.post(url_a, json={"text": "FAIL please", "client_message_id": "x1"},
                          headers=bearer(a["session_token"]))
    assert r.status_code == 200 and r.json()["replayed"] is True
    assert counted._value.get() == before + 1
    r = await client.post(url_a, json={"text": "now ok"}, headers=bearer(a["session_token"]))
    assert r.status_code == 200 and r.json()["reply"]["content"] == "You said: now ok"


def model_failed_line_for_customer() -> str:
    return MODEL_FAILED + TICKET_OFFER


async def test_bounded_waiting_line_per_session(client: httpx.AsyncClient, runtime: Runtime,
                                                model: ScriptedLLM) -> None:
    runtime.settings = runtime.settings.model_copy(update={"turn_queue_limit": 2})
    model.delay = 0.3
    await create_business(client, "busy-co")
    s = await start_customer(client, "busy-co")
    url, h = f"/v1/sessions/{s['session_id']}/messages", bearer(s["session_token"])
    results = await asyncio.gather(*(client.post(url, json={"text": f"m{i}"}, headers=h)
                                     for i in range(8)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 3 and codes.count(429) == 5, codes
    for r in results:
        if r.status_code == 429:
            assert_error(r, 429, "session_busy")
    history = await _history(runtime, s["session_id"])
    assert len(history) == 6 and [r for r, _ in history] == ["user", "assistant"] * 3


async def test_messages_refused_after_end_and_for_bad_text(client: httpx.AsyncClient,
                                                           runtime: Runtime) -> None:
    await create_business(client, "gone-co")
    s = await start_customer(client, "gone-co")
    url, h = f"/v1/sessions/{s['session_id']}/messages", bearer(s["session_token"])
    assert_error(await client.post(url, json={"text": "   "}, headers=h), 400, "invalid_text")
    assert_error(await client.post(url, json={"text": "x" * 4001}, headers=h), 400,
                 "text_too_long")
    assert_error(await client.post(url, json={"text": "hi", "client_message_id": "bad id!"},
                                   headers=h), 422, "validation_error")
    await client.post(f"/v1/sessions/{s['session_id']}/end", headers=h)
    assert_error(await client.post(url, json={"text": "hello?"}, headers=h), 410,
                 "session_ended")
    assert await _history(runtime, s["session_id"]) == []


async def test_only_the_holder_sends_messages(client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "hold-co")
    s = await start_customer(client, "hold-co")
    other = await start_customer(client, "hold-co")
    url = f"/v1/sessions/{s['session_id']}/messages"
    assert_error(await client.post(url, json={"text": "hi"}), 401)
    assert_error(await client.post(url, json={"text": "hi"},
                                   headers=bearer(other["session_token"])), 404)
    assert_error(await client.post(url, json={"text": "hi"}, headers=bearer(owner["token"])),
                 403, "not_session_holder")
