"""The shared model's waiting line: business A floods, business B keeps its
latency (A is refused with 503 + Retry-After, B never), on both backends."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, llm

from tests.conftest import make_settings
from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.agent.scripted_llm import ScriptedLLM, ScriptedReply, _ScriptedStream
from voxa.api.app import create_app
from voxa.kv import create_store
from voxa.runtime import Runtime, open_runtime

CAPACITY = 3  # calls the model serves at once; the rest wait in its queue
DELAY = 0.15


class BoundedModel(ScriptedLLM):
    """The scripted model with a real model server's shape: a few calls at a
    time, the others queued in arrival order."""

    def __init__(self) -> None:
        super().__init__(delay=DELAY)
        self.capacity = asyncio.Semaphore(CAPACITY)

    def chat(self, *, chat_ctx: llm.ChatContext, tools: list[llm.Tool] | None = None,
             conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
             **_: Any) -> llm.LLMStream:
        self.calls += 1
        reply = self._script(chat_ctx, list(tools or []))
        return _Bounded(self, reply, chat_ctx=chat_ctx, tools=list(tools or []),
                        conn_options=conn_options)


class _Bounded(_ScriptedStream):
    def __init__(self, owner: BoundedModel, reply: ScriptedReply, **kwargs: Any) -> None:
        super().__init__(owner, reply, **kwargs)
        self._bounded = owner

    async def _run(self) -> None:
        async with self._bounded.capacity:
            await super()._run()


@pytest.fixture
async def line_rt(backend: dict[str, str | None], tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = make_settings(
        tmp_path, database_url=backend["database_url"], redis_url=backend["redis_url"],
        limit_model_slots_per_business=2, limit_model_slots_total=8,
        limit_turns_per_session="1000/minute", limit_turns_per_customer="1000/minute")
    store = create_store(settings.redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:")
    rt = await open_runtime(settings, run_migrations=backend["database_url"] is None, store=store)
    try:
        yield rt
    finally:
        await rt.aclose()


async def test_one_business_flood_does_not_starve_another(line_rt: Runtime) -> None:
    app = create_app(line_rt.settings, runtime=line_rt, model=BoundedModel())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://voxa.test", timeout=60) as api:
        await create_business(api, "flooder")
        await create_business(api, "victim")
        floods = [await start_customer(api, "flooder", f"a{i}") for i in range(12)]
        victim = await start_customer(api, "victim")

        async def turn(s: dict[str, Any], text: str) -> httpx.Response:
            return await api.post(f"/v1/sessions/{s['session_id']}/messages",
                                  json={"text": text}, headers=bearer(s["session_token"]))

        async def timed_victim_turns(n: int) -> list[float]:
            out = []
            for i in range(n):
                t0 = time.perf_counter()
                r = await turn(victim, f"question {i}")
                assert r.status_code == 200, r.text  # B is never refused
                out.append(time.perf_counter() - t0)
            return out

        baseline = statistics.median(await timed_victim_turns(5))
        flood_answers: list[httpx.Response] = []
        done = asyncio.Event()

        async def flood() -> None:
            while not done.is_set():
                flood_answers.extend(await asyncio.gather(
                    *(turn(s, "spam") for s in floods)))

        flooding = asyncio.create_task(flood())
        try:
            loaded = statistics.median(await timed_victim_turns(8))
        finally:
            done.set()
            await flooding
    refused = [r for r in flood_answers if r.status_code == 503]
    assert refused, "the flood was never refused"
    for r in refused[:3]:
        assert_error(r, 503, "model_busy")
        assert int(r.headers["Retry-After"]) >= 1
    assert any(r.status_code == 200 for r in flood_answers)  # A still gets its share
    # B's median stays near its unloaded value (generous bound for a busy machine).
    assert loaded <= 3 * baseline + 0.3, (baseline, loaded)
    slots = line_rt.metrics.registry.get_sample_value(
        "voxa_limited_total", {"limit": "model_slots_per_business"})
    assert slots == len(refused)
