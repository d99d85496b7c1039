"""A voice job's heartbeat re-checks its session: ended elsewhere, or past its
maximum age, and the job is told to leave (``session_over``)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import httpx
from sqlalchemy import update

from tests.helpers import bearer, create_business, start_customer
from tests.rooms import RecordingRooms
from voxa.kv.keys import agent_pid_key
from voxa.runtime import Runtime
from voxa.storage.models import AgentSession
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow
from voxa.voice.transcript import Heartbeat


def quick(rt: Runtime) -> Runtime:
    """The same runtime (database, store, rooms) with a 0.2 s heartbeat."""
    return dataclasses.replace(
        rt, settings=rt.settings.model_copy(update={"agent_heartbeat_seconds": 0.2}))


async def test_heartbeat_beats_while_active_and_notices_the_end(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "beat-co")
    s = await start_customer(client, "beat-co")
    beat = Heartbeat(quick(runtime), s["session_id"])
    assert await beat.claim()
    await beat.start()
    try:
        assert await runtime.store.get(agent_pid_key(s["session_id"]))
        assert not beat.session_over.is_set()
        r = await client.post(f"/v1/sessions/{s['session_id']}/end",
                              headers=bearer(s["session_token"]))
        assert r.status_code == 200
        # the next beat sees the row and stops
        await asyncio.wait_for(beat.session_over.wait(), 10)
    finally:
        await beat.stop()
    assert not await runtime.store.exists(agent_pid_key(s["session_id"]))


async def test_heartbeat_times_out_a_session_past_its_maximum_age(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "old-co")
    s = await start_customer(client, "old-co")
    age = timedelta(hours=runtime.settings.session_max_hours + 1)
    async with runtime.db() as db:
        await db.execute(update(AgentSession)
                         .where(AgentSession.session_id == s["session_id"])
                         .values(started_at=utcnow() - age))
        await db.commit()
    beat = Heartbeat(quick(runtime), s["session_id"])
    await beat.start()
    try:
        await asyncio.wait_for(beat.session_over.wait(), 10)
    finally:
        await beat.stop()
    async with runtime.db() as db:
        row = await sessions_repo.get(db, s["session_id"], scope=Scope.system())
    assert row is not None and (row.status, row.end_reason) == ("timeout", "max_age")
    assert isinstance(runtime.rooms, RecordingRooms)
    assert runtime.rooms.deleted == [s["room_name"]]
