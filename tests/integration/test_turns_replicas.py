"""Text turns hold across API processes: two app instances (two runtimes, two
``create_app``) share one database and one store — PostgreSQL + Redis, or
SQLite with the store shared — and neither knows what the other holds in
memory: turns of one session stay ordered, a retried ``client_message_id``
runs the model once, an owner's change reaches the other replica's next turn."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from livekit.agents import llm

from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.agent.scripted_llm import ScriptedLLM, ScriptedReply, last_user_text
from voxa.api.app import create_app
from voxa.kv import create_store
from voxa.kv.keys import agent_pid_key, turn_lease_key
from voxa.runtime import Runtime, open_runtime
from voxa.storage.repos import messages as messages_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope

Replicas = tuple[httpx.AsyncClient, httpx.AsyncClient]


def _system_and_turns(chat_ctx: llm.ChatContext) -> tuple[str, list[tuple[str, str]]]:
    system, turns = "", []
    for item in chat_ctx.items:
        if isinstance(item, llm.ChatMessage):
            text = item.text_content or ""
            if item.role == "system":
                system = text
            else:
                turns.append((item.role, text))
    return system, turns


class RecordingLLM(ScriptedLLM):
    """Echoes, and records what every model call saw (across both replicas)."""

    def __init__(self, *, delay: float) -> None:
        super().__init__(self._reply, delay=delay)
        self.seen: list[tuple[str, list[tuple[str, str]]]] = []

    def _reply(self, chat_ctx: llm.ChatContext, tools: list[Any]) -> ScriptedReply:
        self.seen.append(_system_and_turns(chat_ctx))
        return ScriptedReply(text=f"You said: {last_user_text(chat_ctx)}")


@pytest.fixture
def model() -> RecordingLLM:
    return RecordingLLM(delay=0.05)


@pytest.fixture
async def second_runtime(runtime: Runtime) -> AsyncIterator[Runtime]:
    """Another process's runtime on the same data: its own engine, caches,
    turn gates and (with Redis) store connection under the same prefix."""
    s = runtime.settings
    store = create_store(s.redis_url, prefix=runtime.store.prefix) if s.redis_url \
        else runtime.store  # the in-process store stands in for the shared one
    rt = await open_runtime(s, run_migrations=False, store=store)
    try:
        yield rt
    finally:
        if store is runtime.store:
            rt.store = create_store(None)  # closed by the first runtime
        await rt.aclose()


@pytest.fixture
async def replicas(runtime: Runtime, second_runtime: Runtime, model: RecordingLLM
                   ) -> AsyncIterator[Replicas]:
    a = create_app(runtime.settings, runtime=runtime, model=model)
    b = create_app(second_runtime.settings, runtime=second_runtime, model=model)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=a),
                                 base_url="http://voxa.test") as ca, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=b),
                              base_url="http://voxa.test") as cb:
        yield ca, cb


async def _history(rt: Runtime, sid: str) -> list[tuple[str, str]]:
    async with rt.db() as db:
        rows = await messages_repo.list_messages(db, sid, scope=Scope.system(), limit=1000)
    return [(m.role, m.content) for m in rows]


async def test_turns_sent_to_both_replicas_at_once_stay_ordered(
        replicas: Replicas, runtime: Runtime, model: RecordingLLM) -> None:
    a, b = replicas
    await create_business(a, "order-co")
    s = await start_customer(b, "order-co")
    url, h = f"/v1/sessions/{s['session_id']}/messages", bearer(s["session_token"])
    results = await asyncio.gather(*(
        (a if i % 2 == 0 else b).post(url, json={"text": f"m{i}"}, headers=h)
        for i in range(6)))
    assert [r.status_code for r in results] == [200] * 6, [r.text for r in results]

    history = await _history(runtime, s["session_id"])
    assert [role for role, _ in history] == ["user", "assistant"] * 6
    for (_, asked), (_, answered) in zip(history[::2], history[1::2], strict=True):
        assert answered == f"You said: {asked}"
    # Each model call saw every earlier turn, its reply included, and nothing later.
    assert len(model.seen) == 6
    for k, (_, turns) in enumerate(model.seen):
        assert turns == history[:2 * k + 1]


async def test_same_client_message_id_on_both_replicas_runs_the_model_once(
        replicas: Replicas, runtime: Runtime, model: RecordingLLM) -> None:
    a, b = replicas
    model.delay = 0.3
    await create_business(a, "idem-rep-co")
    s = await start_customer(a, "idem-rep-co")
    url, h = f"/v1/sessions/{s['session_id']}/messages", bearer(s["session_token"])
    body = {"text": "order cake", "client_message_id": "c-1"}
    first, second = await asyncio.gather(a.post(url, json=body, headers=h),
                                         b.post(url, json=body, headers=h))
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    one, two = first.json(), second.json()
    assert one["message"]["id"] == two["message"]["id"]
    assert one["reply"]["id"] == two["reply"]["id"]
    assert model.calls == 1
    assert await _history(runtime, s["session_id"]) == [("user", "order cake"),
                                                         ("assistant", "You said: order cake")]
    got = (await b.get(f"/v1/sessions/{s['session_id']}", headers=h)).json()
    assert got["message_count"] == 2


async def test_owner_change_on_one_replica_applies_to_the_next_turn_on_the_other(
        replicas: Replicas, model: RecordingLLM) -> None:
    a, b = replicas
    owner = await create_business(a, "cache-co")
    s = await start_customer(b, "cache-co", name="Mia")
    url, h = f"/v1/sessions/{s['session_id']}/messages", bearer(s["session_token"])
    assert (await b.post(url, json={"text": "one"}, headers=h)).status_code == 200
    assert "Speak like a pirate" not in model.seen[-1][0]

    r = await a.patch("/v1/businesses/cache-co/agent", headers=bearer(owner["token"]),
                      json={"instructions": {"customer": "Speak like a pirate to {name}."},
                            "greeting": {"customer": "Ahoy {name}!"}})
    assert r.status_code == 200, r.text

    assert (await b.post(url, json={"text": "two"}, headers=h)).status_code == 200
    assert "Speak like a pirate to Mia." in model.seen[-1][0]
    # B's directory of businesses (session starts) sees it at once too.
    assert (await start_customer(b, "cache-co", name="Ben"))["greeting"] == "Ahoy Ben!"


async def test_embed_settings_change_on_one_replica_reaches_the_others_directory(
        replicas: Replicas, second_runtime: Runtime) -> None:
    a, b = replicas
    owner = await create_business(a, "origins-co")
    for name in ("Ann", "Bob"):  # B has the business cached, under its current version
        await start_customer(b, "origins-co", name=name)

    async def origins_on_b() -> list[str]:
        async with second_runtime.db() as db:
            entry = await second_runtime.directory.lookup(db, "origins-co",
                                                          versions=second_runtime.store)
        assert entry is not None
        return list(entry[0].allowed_origins or [])

    assert await origins_on_b() == []
    r = await a.patch("/v1/businesses/origins-co/settings", headers=bearer(owner["token"]),
                      json={"allowed_origins": ["https://shop.example"]})
    assert r.status_code == 200, r.text
    # Well inside the directory's entry lifetime: only the version makes B reload.
    assert await origins_on_b() == ["https://shop.example"]


async def test_text_refused_while_a_voice_agent_holds_the_session(
        replicas: Replicas, runtime: Runtime, model: RecordingLLM) -> None:
    a, b = replicas
    await create_business(a, "voice-co")
    s = await start_customer(a, "voice-co")
    url, h = f"/v1/sessions/{s['session_id']}/messages", bearer(s["session_token"])
    await runtime.store.set(agent_pid_key(s["session_id"]), "4242", ttl=60)
    for c in (a, b):
        assert_error(await c.post(url, json={"text": "hi"}, headers=h), 409,
                     "voice_agent_active")
    assert model.calls == 0
    assert await _history(runtime, s["session_id"]) == []
    await runtime.store.delete(agent_pid_key(s["session_id"]))
    assert (await b.post(url, json={"text": "hi"}, headers=h)).status_code == 200


async def test_a_crashed_holders_lease_expires_and_the_next_turn_proceeds(
        replicas: Replicas, runtime: Runtime, second_runtime: Runtime) -> None:
    a, b = replicas
    for rt in (runtime, second_runtime):
        rt.settings = rt.settings.model_copy(update={"turn_lease_seconds": 1.5})
    await create_business(a, "crash-co")
    s = await start_customer(a, "crash-co")
    url, h = f"/v1/sessions/{s['session_id']}/messages", bearer(s["session_token"])
    # A process took the session's turn and died: nobody renews or releases it.
    assert await runtime.store.set_if_absent(turn_lease_key(s["session_id"]), "dead",
                                             ttl=1.5)
    started = time.monotonic()
    r = await b.post(url, json={"text": "still there?"}, headers=h)
    waited = time.monotonic() - started
    assert r.status_code == 200, r.text
    assert waited >= 0.5, waited  # it did wait for the lease …
    assert waited < 20, waited  # … only about its TTL, not turn_wait_seconds (60)


async def test_a_stale_turn_cannot_store_its_reply(runtime: Runtime,
                                                    replicas: Replicas) -> None:
    """The database's turn number fences out a turn whose lease lapsed."""
    a, _ = replicas
    await create_business(a, "fence-co")
    s = await start_customer(a, "fence-co")
    sid, scope = s["session_id"], Scope.system()
    async with runtime.db() as db:
        stale = await sessions_repo.open_turn(db, sid, scope=scope)
        current = await sessions_repo.open_turn(db, sid, scope=scope)
        await db.commit()
    assert stale is not None and current == stale + 1
    async with runtime.db() as db:
        assert await sessions_repo.add_messages(db, sid, 1, scope=scope, fence=stale) is None
        assert await sessions_repo.add_messages(db, sid, 1, scope=scope, fence=current) == 3
        await db.commit()
