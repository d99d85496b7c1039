"""An owner's conversation search: a business with 1,000 messages vs one with
100,000 (first page, 20 hits, newest first), for a rare and a common word."""

from __future__ import annotations

import statistics
import time
import uuid

from sqlalchemy import insert

from voxa.bench.common import Backend, report, scratch_dir, seed_business
from voxa.runtime import open_runtime
from voxa.sessions.ids import new_session_id
from voxa.sessions.rooms import build_room_name
from voxa.sessions.search import search
from voxa.settings import build_settings
from voxa.storage.models import AgentMessage, AgentSession
from voxa.storage.scope import Scope

WORDS = ("bread", "cake", "delivery", "order", "price", "table", "coffee", "tea", "milk", "box")
PER_SESSION = 100


def _content(i: int) -> str:
    rare = " refund" if i % 1000 == 7 else ""  # 0.1% of messages
    return (f"message {i} about {WORDS[i % 10]} and {WORDS[(i // 10) % 10]} "
            f"with some ordinary words{rare}")


async def run(backend_name: str, quick: bool, big: int = 100_000) -> None:
    big = 20_000 if quick else big
    sizes = {"small": 1_000, "big": big}
    reps = 50 if quick else 200
    with scratch_dir() as d:
        backend = Backend.choose(backend_name, d)
        rt = await open_runtime(build_settings(data_dir=d, env="test",
                                               database_url=backend.database_url,
                                               redis_url=backend.redis_url))
        try:
            scopes = {}
            for label, count in sizes.items():
                async with rt.db() as db:
                    b, agent = await seed_business(db, f"search-{label}")
                    scopes[label] = Scope.business(b.id)
                    sids = []
                    for _ in range(count // PER_SESSION):
                        sid = new_session_id()
                        db.add(AgentSession(session_id=sid, agent_id=agent.id, business_id=b.id,
                                            role="customer", user_id=str(uuid.uuid4()),
                                            channel="text", room_name=build_room_name(
                                                "customer", b.slug, sid), status="ended",
                                            config={}))
                        sids.append(sid)
                    await db.commit()
                for start in range(0, count, 5000):
                    async with rt.db() as db:
                        await db.execute(insert(AgentMessage), [
                            {"session_id": sids[i // PER_SESSION],
                             "role": "user" if i % 2 == 0 else "assistant",
                             "content": _content(i)}
                            for i in range(start, min(count, start + 5000))])
                        await db.commit()
            timings: dict[tuple[str, str], list[float]] = {}
            for _ in range(reps):
                for label in sizes:
                    for word in ("refund", "bread"):
                        t0 = time.perf_counter()
                        async with rt.db() as db:
                            hits, _next = await search(db, word, scope=scopes[label], limit=20)
                        timings.setdefault((label, word), []).append(time.perf_counter() - t0)
                        if not hits:
                            raise RuntimeError(f"no hits for {word!r} in the {label} business")
        finally:
            await rt.aclose()
    med = {k: statistics.median(v) * 1000 for k, v in timings.items()}
    p99 = {k: sorted(v)[int(0.99 * (len(v) - 1))] * 1000 for k, v in timings.items()}
    result: dict[str, object] = {"backend": backend.name, "big_messages": big}
    rows = []
    for (label, word), p50 in med.items():
        result[f"{label}_{word}_p50_ms"] = round(p50, 3)
        result[f"{label}_{word}_p99_ms"] = round(p99[(label, word)], 3)
        rows.append([f"{sizes[label]:,} messages", word, round(p50, 3),
                     round(p99[(label, word)], 3)])
    result["ratio_rare_p50"] = round(med[("big", "refund")] / med[("small", "refund")], 2)
    result["ratio_common_p50"] = round(med[("big", "bread")] / med[("small", "bread")], 2)
    report("search", result, rows, ["business", "word", "p50 ms", "p99 ms"])
