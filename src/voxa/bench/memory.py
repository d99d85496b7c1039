"""Resident memory added per open idle session in the API process."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from voxa.bench.common import BENCH_LIMITS, Backend, report, rss_mib, scratch_dir, serve


async def run(backend_name: str, quick: bool, n: int = 1000) -> None:
    n = 200 if quick else n
    with scratch_dir() as d:
        backend = Backend.choose(backend_name, d)
        with serve(backend, d, extra_env=BENCH_LIMITS) as srv:
            async with httpx.AsyncClient(base_url=srv.base, timeout=60) as c:
                slug = f"mem-{uuid.uuid4().hex[:6]}"
                (await c.post("/v1/businesses", json={"name": "M", "slug": slug, "owner": {
                    "email": f"o@{slug}.example.com", "name": "O",
                    "password": "password123"}})).raise_for_status()
                sem = asyncio.Semaphore(20)

                async def start(i: int) -> None:
                    async with sem:
                        r = await c.post("/v1/sessions", json={
                            "role": "customer", "business": slug, "customer": {"name": f"c{i}"}})
                        r.raise_for_status()

                await asyncio.gather(*(start(i) for i in range(100)))  # warm caches and pools
                await asyncio.sleep(1)
                before = rss_mib(srv.pid)
                await asyncio.gather(*(start(i) for i in range(n)))
                await asyncio.sleep(1)
                after = rss_mib(srv.pid)
    per_session_kib = (after - before) * 1024 / n
    result = {"backend": backend.name, "sessions": n, "rss_before_mib": round(before, 1),
              "rss_after_mib": round(after, 1), "per_idle_session_kib": round(per_session_kib, 2)}
    report("memory", result, [[n, result["rss_before_mib"], result["rss_after_mib"],
                               result["per_idle_session_kib"]]],
           ["idle sessions", "RSS before MiB", "RSS after MiB", "KiB per session"])
