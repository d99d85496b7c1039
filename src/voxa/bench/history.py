"""Loading a turn's context in a 10-message vs a 100,000-message session."""

from __future__ import annotations

import statistics
import time
import uuid

from sqlalchemy import insert

from voxa.agent.context_window import load_window, maybe_summarize
from voxa.bench.common import Backend, report, scratch_dir, seed_business
from voxa.runtime import open_runtime
from voxa.sessions.ids import new_session_id
from voxa.sessions.rooms import build_room_name
from voxa.sessions.summary import ExtractiveSummarizer
from voxa.settings import build_settings
from voxa.storage.models import AgentMessage, AgentSession
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope


async def run(backend_name: str, quick: bool, big: int = 100_000) -> None:
    big = 20_000 if quick else big
    reps = 300
    with scratch_dir() as d:
        backend = Backend.choose(backend_name, d)
        rt = await open_runtime(build_settings(data_dir=d, env="test",
                                               database_url=backend.database_url,
                                               redis_url=backend.redis_url))
        try:
            async with rt.db() as db:
                b, agent = await seed_business(db, "hist")
                sids = {}
                for label in ("small", "big"):
                    sid = new_session_id()
                    db.add(AgentSession(session_id=sid, agent_id=agent.id, business_id=b.id,
                                        role="customer", user_id=str(uuid.uuid4()),
                                        channel="text", room_name=build_room_name(
                                            "customer", b.slug, sid), status="active",
                                        config={}))
                    sids[label] = sid
                await db.commit()
            for label, count in (("small", 10), ("big", big)):
                for start in range(0, count, 5000):
                    async with rt.db() as db:
                        await db.execute(insert(AgentMessage), [
                            {"session_id": sids[label], "role": "user" if i % 2 == 0 else
                             "assistant", "content": f"message {i} with some ordinary words"}
                            for i in range(start, min(count, start + 5000))])
                        await db.commit()
            timings: dict[str, list[float]] = {"small": [], "big": []}
            summarizer = ExtractiveSummarizer()
            for _ in range(reps):
                for label in ("small", "big"):
                    t0 = time.perf_counter()
                    async with rt.db() as db:
                        row = await sessions_repo.get(db, sids[label], scope=Scope.system())
                        assert row is not None
                        window = await load_window(db, row)
                        await maybe_summarize(db, row, summarizer)
                        await db.commit()
                    timings[label].append(time.perf_counter() - t0)
                    expected = 10 if label == "small" else 20
                    if len(window.messages) != expected:
                        raise RuntimeError(f"{label} session loaded {len(window.messages)} "
                                           f"messages, expected {expected}")
        finally:
            await rt.aclose()
    med = {k: statistics.median(v) * 1000 for k, v in timings.items()}
    p99 = {k: sorted(v)[int(0.99 * (len(v) - 1))] * 1000 for k, v in timings.items()}
    result = {"backend": backend.name, "big_messages": big, "small_p50_ms": round(med["small"], 3),
              "big_p50_ms": round(med["big"], 3), "small_p99_ms": round(p99["small"], 3),
              "big_p99_ms": round(p99["big"], 3), "ratio_p50": round(med["big"] / med["small"], 2)}
    report("history", result, [["10 messages", result["small_p50_ms"], result["small_p99_ms"]],
                               [f"{big:,} messages", result["big_p50_ms"], result["big_p99_ms"]]],
           ["session", "p50 ms", "p99 ms"])
