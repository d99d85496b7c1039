"""Session starts through the HTTP API vs the raw cost of the same writes."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from voxa.bench.common import (
    BENCH_LIMITS,
    Backend,
    report,
    scratch_dir,
    seed_business,
    serve,
    summary_ms,
)
from voxa.bench.http_load import closed_loop, paced
from voxa.infra.livekit_tokens import TokenRequest
from voxa.kv.keys import config_key
from voxa.runtime import open_runtime
from voxa.sessions.ids import new_session_id
from voxa.sessions.rooms import build_room_name
from voxa.settings import build_settings
from voxa.storage.models import AgentSession

LIVEKIT = {"LIVEKIT_URL": "ws://127.0.0.1:7880", "LIVEKIT_API_KEY": "bench",
           "LIVEKIT_API_SECRET": "bench-secret-bench-secret-bench-secret-1234"}


async def baseline(backend: Backend, data_dir: Any, n: int) -> dict[str, float]:
    """One INSERT of the session row + the config SETEX + one LiveKit token
    signing, in a tight loop, on the same database and store."""
    settings = build_settings(data_dir=data_dir, env="test", database_url=backend.database_url,
                              redis_url=backend.redis_url, livekit_url=LIVEKIT["LIVEKIT_URL"],
                              livekit_api_key=LIVEKIT["LIVEKIT_API_KEY"],
                              livekit_api_secret=LIVEKIT["LIVEKIT_API_SECRET"])
    rt = await open_runtime(settings)
    assert rt.livekit is not None
    try:
        async with rt.db() as db:
            b, agent = await seed_business(db, "base")
            await db.commit()
        lat = []
        start = time.perf_counter()
        for i in range(n):
            t0 = time.perf_counter()
            sid = new_session_id()
            room = build_room_name("customer", b.slug, sid)
            async with rt.db() as db:
                db.add(AgentSession(session_id=sid, agent_id=agent.id, business_id=b.id,
                                    role="customer", user_id=str(uuid.uuid4()), channel="text",
                                    room_name=room, status="active", config={"voice": "joe"}))
                await db.commit()
            await rt.store.set(config_key(sid), '{"voice": "joe"}', ttl=4 * 3600)
            rt.livekit.mint(TokenRequest(room, "customer", str(i), "Guest", b.slug, sid, 0))
            lat.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        return {"starts_per_s": round(n / elapsed, 1), **summary_ms(lat)}
    finally:
        await rt.aclose()


async def run(backend_name: str, quick: bool) -> None:
    levels = {1: 100, 10: 400, 100: 1000} if not quick else {1: 30, 10: 100, 100: 200}
    with scratch_dir() as d:
        backend = Backend.choose(backend_name, d)
        results: dict[str, Any] = {"backend": backend.name, "levels": {}}
        with serve(backend, d, extra_env={**LIVEKIT, **BENCH_LIMITS}) as srv:
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
            async with httpx.AsyncClient(base_url=srv.base, timeout=60, limits=limits) as c:
                slug = f"bench-{uuid.uuid4().hex[:6]}"
                r = await c.post("/v1/businesses", json={"name": "Bench", "slug": slug, "owner": {
                    "email": f"o@{slug}.example.com", "name": "O", "password": "password123"}})
                r.raise_for_status()

                async def start(i: int) -> None:
                    r = await c.post("/v1/sessions", json={
                        "role": "customer", "business": slug, "customer": {"name": f"c{i}"}})
                    r.raise_for_status()

                await closed_loop(start, concurrency=10, total=50)  # warm-up
                for conc, total in levels.items():
                    res = await closed_loop(start, concurrency=conc, total=total)
                    results["levels"][conc] = {"starts_per_s": round(res.rate, 1),
                                               "n": len(res.latencies), "errors": res.errors,
                                               **summary_ms(res.latencies)}
                # Closed-loop latency at 100 clients is queueing (Little's law);
                # the per-start latency with 100 clients active is measured with
                # each client starting one session every 2 s (50 starts/s offered).
                results["paced"] = {}
                for conc in levels:
                    async def paced_start(a: int, k: int) -> None:
                        await start(a * 1000 + k)
                    res = await paced(paced_start, actors=conc, each=4 if not quick else 2,
                                      interval=2.0)
                    results["paced"][conc] = {"errors": res.errors, **summary_ms(res.latencies)}
        base_dir = d / "baseline"
        base_dir.mkdir()
        base_backend = Backend.choose(backend_name, base_dir)
        results["baseline"] = await baseline(base_backend, base_dir, 300 if not quick else 100)
    best = max(v["starts_per_s"] for v in results["levels"].values())
    results["ratio_best_vs_baseline"] = round(best / results["baseline"]["starts_per_s"], 2)
    rows = [[f"voxa @{c} clients", v["starts_per_s"], v["p50_ms"], v["p99_ms"],
             results["paced"][c]["p50_ms"], results["paced"][c]["p99_ms"], v["errors"]]
            for c, v in results["levels"].items()]
    b = results["baseline"]
    rows.append(["baseline (raw writes)", b["starts_per_s"], b["p50_ms"], b["p99_ms"], "", "", 0])
    report("sessions", results, rows, ["run", "starts/s", "p50 ms", "p99 ms", "paced p50",
                                       "paced p99", "errors"])
