"""The cleanup job: times out idle/over-age sessions, deletes their keys, marks
stale agents; idempotent; concurrent runners never double-process."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import update

from tests.helpers import create_business, start_customer
from voxa.jobs.cleanup import LOCK_KEY, run_cleanup
from voxa.kv.keys import agent_pid_key, all_session_keys
from voxa.runtime import Runtime
from voxa.storage.models import AgentSession
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow


async def _make_idle(rt: Runtime, sids: list[str], *, hours: float) -> None:
    async with rt.db() as db:
        await db.execute(
            update(AgentSession)
            .where(AgentSession.session_id.in_(sids))
            .values(last_activity_at=utcnow() - timedelta(hours=hours))
        )
        await db.commit()


async def _statuses(rt: Runtime) -> dict[str, str]:
    async with rt.db() as db:
        rows = await sessions_repo.list_sessions(db, scope=Scope.system(), limit=1000)
    return {r.session_id: r.status for r in rows}


async def test_times_out_idle_sessions_and_deletes_keys(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "clean-co")
    sessions = [await start_customer(client, "clean-co") for _ in range(6)]
    idle = [s["session_id"] for s in sessions[:4]]
    fresh = [s["session_id"] for s in sessions[4:]]
    await _make_idle(runtime, idle, hours=25)
    for sid in idle + fresh:
        await runtime.store.set(agent_pid_key(sid), "1", ttl=60)

    report = await run_cleanup(runtime)
    assert sorted(report.timed_out) == sorted(idle)
    statuses = await _statuses(runtime)
    assert all(statuses[s] == "timeout" for s in idle)
    assert all(statuses[s] == "active" for s in fresh)
    for sid in idle:
        assert await runtime.store.exists(*all_session_keys(sid)) == 0
    for sid in fresh:
        assert await runtime.store.exists(*all_session_keys(sid)) == 3  # no conversation key
    # Idempotent: a second run finds nothing to do.
    assert (await run_cleanup(runtime)).timed_out == []
    assert await runtime.store.get(LOCK_KEY) is None


async def test_concurrent_runs_do_not_double_process(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "race-co")
    sids = [(await start_customer(client, "race-co"))["session_id"] for _ in range(12)]
    await _make_idle(runtime, sids, hours=48)
    # With the lock: one runner works, the other steps aside.
    a, b = await asyncio.gather(run_cleanup(runtime), run_cleanup(runtime))
    assert sorted(a.timed_out + b.timed_out) == sorted(sids)
    assert a.skipped != b.skipped

    sids2 = [(await start_customer(client, "race-co"))["session_id"] for _ in range(12)]
    await _make_idle(runtime, sids2, hours=48)
    # Without the lock (lock lost or expired): conditional updates still count each once.
    reports = await asyncio.gather(
        *(run_cleanup(runtime, use_lock=False, batch=5) for _ in range(3))
    )
    done = [sid for r in reports for sid in r.timed_out]
    assert sorted(done) == sorted(sids2)
    ended = runtime.metrics.sessions_ended.labels(role="customer", reason="cleanup")._value.get()
    assert ended == 24


async def test_marks_agents_whose_heartbeat_stopped(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "beat-co")
    alive = await start_customer(client, "beat-co", channel="voice")
    dead = await start_customer(client, "beat-co", channel="voice")
    for s in (alive, dead):
        async with runtime.db() as db:
            await sessions_repo.merge_context(
                db, s["session_id"], {"agent_status": "running"}, scope=Scope.system()
            )
            await db.commit()
    await runtime.store.set(agent_pid_key(alive["session_id"]), "123", ttl=30)
    report = await run_cleanup(runtime)
    assert report.stale_agents == [dead["session_id"]]
    r = await client.get(
        f"/v1/sessions/{dead['session_id']}",
        headers={"Authorization": f"Bearer {dead['session_token']}"},
    )
    assert r.json()["agent_status"] == "stale" and r.json()["status"] == "active"
