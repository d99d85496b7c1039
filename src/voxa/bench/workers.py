"""`voxa bench turns --workers N`: what more API processes buy. The same text
turn load (100 sessions, one closed-loop client each, an instant scripted
model) against `voxa serve --workers 1` and then `--workers N`, in one run, on
PostgreSQL + Redis; turns/s and latency percentiles side by side."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from voxa.bench.common import BENCH_LIMITS, Backend, report, scratch_dir, serve, summary_ms
from voxa.bench.http_load import closed_loop

SESSIONS = 100


async def _measure(backend: Backend, data_dir: Path, workers: int, total: int) -> dict[str, Any]:
    with serve(backend, data_dir, extra_env=BENCH_LIMITS, workers=workers) as srv:
        limits = httpx.Limits(max_connections=SESSIONS * 2, max_keepalive_connections=SESSIONS * 2)
        async with httpx.AsyncClient(base_url=srv.base, timeout=120, limits=limits) as c:
            slug = f"bench-{uuid.uuid4().hex[:6]}"
            (await c.post("/v1/businesses", json={"name": "Bench", "slug": slug, "owner": {
                "email": f"o@{slug}.example.com", "name": "O",
                "password": "password123"}})).raise_for_status()
            sessions = []
            for i in range(SESSIONS):
                r = await c.post("/v1/sessions", json={"role": "customer", "business": slug,
                                                       "customer": {"name": f"c{i}"}})
                r.raise_for_status()
                sessions.append(r.json())

            async def op(i: int) -> None:
                s = sessions[i % SESSIONS]
                r = await c.post(f"/v1/sessions/{s['session_id']}/messages",
                                 json={"text": f"turn {i} hello"},
                                 headers={"Authorization": f"Bearer {s['session_token']}"})
                r.raise_for_status()

            await closed_loop(op, concurrency=SESSIONS, total=SESSIONS)  # warm-up
            res = await closed_loop(op, concurrency=SESSIONS, total=total)
    return {"turns_per_s": round(res.rate, 1), "errors": res.errors,
            **summary_ms(res.latencies)}


async def run(backend_name: str, quick: bool, *, workers: int = 2) -> None:
    total = 300 if quick else 2000
    results: dict[str, Any] = {"sessions": SESSIONS, "turns": total, "workers": {}}
    with scratch_dir() as d:
        backend = Backend.choose(backend_name, d)
        results["backend"] = backend.name
        for n in dict.fromkeys((1, workers)):
            results["workers"][n] = await _measure(backend, d / f"w{n}", n, total)
    one, many = results["workers"][1], results["workers"][workers]
    results["speedup"] = round(many["turns_per_s"] / one["turns_per_s"], 2)
    results["p99_ratio"] = round(many["p99_ms"] / one["p99_ms"], 2)
    rows = [[n, r["turns_per_s"], r["p50_ms"], r["p99_ms"], r["errors"]]
            for n, r in results["workers"].items()]
    report("turns_workers", results, rows, ["workers", "turns/s", "p50 ms", "p99 ms", "errors"])
