"""Text turns through the HTTP API with an instant scripted model (so what is
measured is the platform) vs the naive way: a fresh ``AgentSession`` started
and run per turn with the same model."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from livekit.agents import Agent, AgentSession

from voxa.agent.scripted_llm import ScriptedLLM
from voxa.bench.common import (
    BENCH_LIMITS,
    Backend,
    ratio,
    report,
    scratch_dir,
    serve,
    summary_ms,
)
from voxa.bench.http_load import closed_loop, paced


async def naive_turn(text: str) -> str:
    session: AgentSession[None] = AgentSession(llm=ScriptedLLM())
    await session.start(agent=Agent(instructions="You are a helpful assistant."), record=False)
    try:
        result: Any = await session.run(user_input=text)
        return str(result)
    finally:
        await session.aclose()


async def run(backend_name: str, quick: bool) -> None:
    levels = {1: 100, 10: 400, 100: 1000} if not quick else {1: 30, 10: 100, 100: 200}
    paced_each = 5 if not quick else 2
    results: dict[str, Any] = {"levels": {}, "paced": {}, "naive": {}}
    with scratch_dir() as d:
        backend = Backend.choose(backend_name, d)
        results["backend"] = backend.name
        with serve(backend, d, extra_env=BENCH_LIMITS) as srv:
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
            async with httpx.AsyncClient(base_url=srv.base, timeout=120, limits=limits) as c:
                slug = f"bench-{uuid.uuid4().hex[:6]}"
                (await c.post("/v1/businesses", json={"name": "Bench", "slug": slug, "owner": {
                    "email": f"o@{slug}.example.com", "name": "O",
                    "password": "password123"}})).raise_for_status()
                sessions = []
                for i in range(100):
                    r = await c.post("/v1/sessions", json={"role": "customer", "business": slug,
                                                           "customer": {"name": f"c{i}"}})
                    r.raise_for_status()
                    sessions.append(r.json())

                def turn_op(conc: int):  # type: ignore[no-untyped-def]
                    async def op(i: int) -> None:
                        s = sessions[i % conc]
                        r = await c.post(f"/v1/sessions/{s['session_id']}/messages",
                                         json={"text": f"turn {i} hello"},
                                         headers={"Authorization": f"Bearer {s['session_token']}"})
                        r.raise_for_status()
                    return op

                await closed_loop(turn_op(10), concurrency=10, total=50)  # warm-up
                for conc, total in levels.items():
                    res = await closed_loop(turn_op(conc), concurrency=conc, total=total)
                    results["levels"][conc] = {"turns_per_s": round(res.rate, 1),
                                               "errors": res.errors, **summary_ms(res.latencies)}
                # Per-turn overhead with N sessions active at a steady pace
                # (one turn per session per second), i.e. without queueing
                # behind a saturated server.
                for conc in levels:
                    async def op(a: int, k: int) -> None:
                        s = sessions[a]
                        r = await c.post(f"/v1/sessions/{s['session_id']}/messages",
                                         json={"text": f"paced {k}"},
                                         headers={"Authorization": f"Bearer {s['session_token']}"})
                        r.raise_for_status()
                    res = await paced(op, actors=conc, each=paced_each, interval=1.0)
                    results["paced"][conc] = {"errors": res.errors, **summary_ms(res.latencies)}
    # The naive baseline, same concurrency levels, fewer turns (it is slow).
    naive_levels = {1: 20, 10: 60, 100: 200} if not quick else {1: 5, 10: 20, 100: 100}
    for conc, total in naive_levels.items():
        async def naive_op(i: int) -> None:
            await naive_turn(f"turn {i} hello")
        res = await closed_loop(naive_op, concurrency=conc, total=total, max_seconds=60)
        results["naive"][conc] = {"turns_per_s": round(res.rate, 1), "errors": res.errors,
                                  **summary_ms(res.latencies)}
    lv, nv, pc = results["levels"], results["naive"], results["paced"]
    results["throughput_ratio_at_100"] = ratio(lv[100]["turns_per_s"], nv[100]["turns_per_s"])
    # None where one side has too few samples for a p99 (common.min_samples)
    results["paced_p99_growth_1_to_100"] = ratio(pc[100]["p99_ms"], pc[1]["p99_ms"])
    results["closed_loop_p99_growth_1_to_100"] = ratio(lv[100]["p99_ms"], lv[1]["p99_ms"])
    rows = []
    for conc in levels:
        rows.append([conc, lv[conc]["turns_per_s"], lv[conc]["p50_ms"], lv[conc]["p99_ms"],
                     pc[conc]["p50_ms"], pc[conc]["p99_ms"], nv[conc]["turns_per_s"],
                     nv[conc]["p99_ms"]])
    report("turns", results, rows, ["sessions", "voxa turns/s", "p50 ms", "p99 ms",
                                    "paced p50", "paced p99", "naive turns/s", "naive p99"])


