"""Voice on a real livekit-server: agent join delay and time from the end of
user speech to the first agent audio, sequential and concurrent; resident
memory of the job processes."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

import httpx

from voxa.bench.common import (
    Backend,
    pct,
    report,
    rounded,
    rss_mib,
    scratch_dir,
    serve,
    uss_mib,
)
from voxa.bench.voice_faults import MODEL_BOUND_S, fault_run
from voxa.kv import TTLStore, create_store
from voxa.kv.keys import agent_pid_key
from voxa.voice.client import VoiceClient, caller_speech


async def one_session(c: httpx.AsyncClient, slug: str, pcm: bytes, rate: int,
                      store: TTLStore) -> dict[str, Any]:
    """One caller's session, measured; a failure (no agent, no reply, an error)
    is a result too (``failed``: why), counted in the report, never dropped."""
    try:
        return await _session(c, slug, pcm, rate, store)
    except Exception as e:  # any failure of a call is what is counted
        return {"join_s": None, "first_audio_s": None, "rss": float("nan"),
                "uss": float("nan"), "failed": f"{type(e).__name__}: {e}"[:200]}


async def _session(c: httpx.AsyncClient, slug: str, pcm: bytes, rate: int,
                   store: TTLStore) -> dict[str, Any]:
    r = await c.post("/v1/sessions", json={"role": "customer", "business": slug,
                                           "channel": "voice", "customer": {"name": "Bench"}})
    r.raise_for_status()
    grant = r.json()
    client = VoiceClient(grant["livekit"]["url"], grant["livekit"]["token"])
    try:
        t0 = time.monotonic()
        await client.connect()
        if not await client.wait_for_agent(60):
            raise TimeoutError("no agent joined within 60 s")
        join = (client.agent_joined_at or t0) - (client.connected_at or t0)
        if not await client.wait_until_ready(60):
            raise TimeoutError("the agent never listened")
        await client.wait_for(lambda: bool(client.agent_said()), 60)  # greeting
        await client.wait_for_turn(60)  # let the greeting play out
        ended = await client.say(pcm, rate)
        await client.wait_for(lambda: client.agent_audio.voiced_after(ended) is not None, 60)
        first = client.agent_audio.voiced_after(ended)
        pid = await store.get(agent_pid_key(grant["session_id"]))
        rss = rss_mib(int(pid)) if pid else float("nan")
        uss = uss_mib(int(pid)) if pid else float("nan")
        return {"join_s": join, "first_audio_s": (first - ended) if first else None, "rss": rss,
                "uss": uss, "failed": None if first else "no reply audio within 60 s"}
    finally:
        await client.aclose()


async def run(backend_name: str, quick: bool, llm: str = "scripted") -> None:
    sequential = 3 if quick else 6
    concurrent_levels = [2] if quick else [2, 4, 6]
    pcm, rate = caller_speech("What are your opening hours?")
    rows: list[list[Any]] = []
    result: dict[str, Any] = {"llm": llm, "runs": {}}
    with scratch_dir() as d:
        backend = Backend.choose(backend_name, d)
        result["backend"] = backend.name
        env = {"VOXA_LLM": llm} if llm != "scripted" else {}
        with serve(backend, d, voice=True, extra_env=env, log_level="INFO") as srv:
            # the store voxa serve picked: SQL-backed (voice without Redis)
            store = create_store(None, kind="sql",
                                 database_url=f"sqlite+aiosqlite:///{d / 'voxa.db'}")
            async with httpx.AsyncClient(base_url=srv.base, timeout=60) as c:
                slug = f"voice-{uuid.uuid4().hex[:6]}"
                (await c.post("/v1/businesses", json={"name": "Voice", "slug": slug, "owner": {
                    "email": f"o@{slug}.example.com", "name": "O",
                    "password": "password123"}})).raise_for_status()
                warm = await one_session(c, slug, pcm, rate, store)
                result["warm_up_failed"] = warm["failed"]
                runs: dict[str, list[dict[str, Any]]] = {"sequential": []}
                for _ in range(sequential):
                    runs["sequential"].append(
                        await one_session(c, slug, pcm, rate, store))
                for n in concurrent_levels:
                    runs[f"concurrent {n}"] = list(await asyncio.gather(*(
                        one_session(c, slug, pcm, rate, store)
                        for _ in range(n))))
            await store.aclose()
    # the fault run on a stack of its own: a short model bound would turn the
    # slow answers of the concurrent runs above into fallback lines
    with scratch_dir() as d2, serve(Backend.choose(backend_name, d2), d2, voice=True,
                                    log_level="INFO", extra_env={
                                        **env, "VOXA_VOICE_MODEL_TIMEOUT_SECONDS":
                                        str(MODEL_BOUND_S)}) as srv:
        async with httpx.AsyncClient(base_url=srv.base, timeout=60) as c:
            slug = f"faults-{uuid.uuid4().hex[:6]}"
            (await c.post("/v1/businesses", json={"name": "Faults", "slug": slug, "owner": {
                "email": f"o@{slug}.example.com", "name": "O",
                "password": "password123"}})).raise_for_status()
            store = create_store(None, kind="sql",
                                 database_url=f"sqlite+aiosqlite:///{d2 / 'voxa.db'}")
            await one_session(c, slug, pcm, rate, store)  # warm-up: speech models loaded
            await store.aclose()
            faults = await fault_run(c, slug, pcm, rate, llm=llm, serve_pid=srv.pid)
    result["faults"] = faults
    for name, items in runs.items():
        joins = [x["join_s"] * 1000 for x in items if x["join_s"] is not None]
        firsts = [x["first_audio_s"] * 1000 for x in items if x["first_audio_s"] is not None]
        rss = [x["rss"] for x in items if x["rss"] == x["rss"]]
        uss = [x["uss"] for x in items if x["uss"] == x["uss"]]
        # a handful of sessions per run: the median and the worst, never a "p95"
        entry = {"sessions": len(items), "failed": sum(1 for x in items if x["failed"]),
                 "failures": [x["failed"] for x in items if x["failed"]],
                 "join_p50_ms": rounded(pct(joins, 50), 0),
                 "join_max_ms": round(max(joins)) if joins else None,
                 "first_audio_p50_ms": rounded(pct(firsts, 50), 0),
                 "first_audio_max_ms": round(max(firsts)) if firsts else None,
                 "job_rss_mib": round(statistics.fmean(rss), 1) if rss else None,
                 "job_uss_mib": round(statistics.fmean(uss), 1) if uss else None}
        result["runs"][name] = entry
        rows.append([name, entry["sessions"], entry["failed"], entry["join_p50_ms"],
                     entry["join_max_ms"], entry["first_audio_p50_ms"],
                     entry["first_audio_max_ms"], entry["job_rss_mib"], entry["job_uss_mib"]])
    for t in faults["turns"]:
        # a fault turn without audio counts as failed
        rows.append([f"fault: {t['turn']}", 1, int(t["first_audio_ms"] is None), "", "",
                     t["first_audio_ms"], "", "", ""])
    report("voice", result, rows, ["run", "n", "failed", "join p50 ms", "join max ms",
                                   "1st audio p50 ms", "1st audio max ms", "job RSS MiB",
                                   "job USS MiB"])
