"""Where the embedded worker's speech should run: first agent audio for 4 and
6 concurrent calls with speech in the worker's inference process (one request
at a time) and through a ``voxa speech`` server with 1 and 2 replicas, in
the same run (``VOXA_SERVE_SPEECH``)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from voxa.bench.common import Backend, pct, report, scratch_dir, serve
from voxa.bench.voice import one_session
from voxa.kv.sql import SqlStore
from voxa.voice.client import caller_speech

SETUPS = (("inference", {"VOXA_SERVE_SPEECH": "inference"}),
          ("server x1", {"VOXA_SERVE_SPEECH": "server", "VOXA_SERVE_SPEECH_REPLICAS": "1"}),
          ("server x2", {"VOXA_SERVE_SPEECH": "server", "VOXA_SERVE_SPEECH_REPLICAS": "2"}))


async def _setup(backend_name: str, env: dict[str, str], levels: list[int], pcm: bytes,
                 rate: int) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {}
    with scratch_dir() as d:
        backend = Backend.choose(backend_name, d)
        with serve(backend, d, voice=True, extra_env=env, log_level="INFO",
                   start_timeout=400) as srv:
            store = SqlStore.connect(f"sqlite+aiosqlite:///{d / 'voxa.db'}")
            async with httpx.AsyncClient(base_url=srv.base, timeout=60) as c:
                slug = f"speech-{uuid.uuid4().hex[:6]}"
                (await c.post("/v1/businesses", json={"name": "Speech", "slug": slug, "owner": {
                    "email": f"o@{slug}.example.com", "name": "O",
                    "password": "password123"}})).raise_for_status()
                await one_session(c, slug, pcm, rate, store)  # warm-up
                for n in levels:
                    runs[f"concurrent {n}"] = list(await asyncio.gather(*(
                        one_session(c, slug, pcm, rate, store) for _ in range(n))))
            await store.aclose()
    return runs


def _ms(value: float | None) -> int | None:
    # None: too few samples for that percentile; NaN: every reply missed
    return None if value is None or value != value else round(value)


async def run(backend_name: str, quick: bool) -> None:
    levels = [2] if quick else [4, 6]
    pcm, rate = caller_speech("What are your opening hours?")
    result: dict[str, Any] = {"runs": {}}
    rows: list[list[Any]] = []
    for name, env in SETUPS:
        runs = await _setup(backend_name, env, levels, pcm, rate)
        for level, items in runs.items():
            firsts = [x["first_audio_s"] * 1000 for x in items if x["first_audio_s"] is not None]
            entry = {"sessions": len(items), "first_audio_p50_ms": _ms(pct(firsts, 50)),
                     "first_audio_p95_ms": _ms(pct(firsts, 95)),
                     "missed_replies": len(items) - len(firsts)}
            result["runs"][f"{name} {level}"] = entry
            rows.append([name, level, entry["first_audio_p50_ms"], entry["first_audio_p95_ms"],
                         entry["missed_replies"]])
    report("speech", result, rows, ["speech", "run", "1st audio p50 ms", "1st audio p95 ms",
                                    "missed"])
