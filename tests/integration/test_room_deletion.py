"""Every way a session ends deletes its LiveKit room, through the one
lifecycle; a LiveKit that is down never makes ending fail. (The real server
answering the deletion: ``tests/voice/test_voice_lifecycle.py``.)"""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
from sqlalchemy import update

from tests.helpers import bearer, create_business, start_customer
from tests.rooms import DownRooms, RecordingRooms
from voxa.domain import SessionStatus
from voxa.infra.livekit_rooms import ATTEMPTS, LiveKitRoomCloser
from voxa.jobs.cleanup import run_cleanup
from voxa.kv.keys import all_session_keys
from voxa.runtime import Runtime
from voxa.sessions.lifecycle import close_session
from voxa.storage.models import AgentSession
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow


def _recorded(rt: Runtime) -> list[str]:
    assert isinstance(rt.rooms, RecordingRooms)
    return rt.rooms.deleted


async def test_end_by_holder_and_by_owner_delete_the_room(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await create_business(client, "room-co")
    mine, theirs = await start_customer(client, "room-co"), await start_customer(client, "room-co")
    r = await client.post(f"/v1/sessions/{mine['session_id']}/end",
                          headers=bearer(mine["session_token"]))
    assert r.status_code == 200 and r.json()["end_reason"] == "ended_by_user"
    assert _recorded(runtime) == [mine["room_name"]]
    r = await client.post(f"/v1/sessions/{theirs['session_id']}/end",
                          headers=bearer(owner["token"]))
    assert r.status_code == 200 and r.json()["end_reason"] == "ended_by_owner"
    assert _recorded(runtime) == [mine["room_name"], theirs["room_name"]]
    # ending again asks again: the room may have been re-created by a late join
    # (no agent serves it); a room that is already gone is not an error
    again = await client.post(f"/v1/sessions/{mine['session_id']}/end",
                              headers=bearer(mine["session_token"]))
    assert again.status_code == 200
    assert _recorded(runtime).count(mine["room_name"]) == 2


async def test_cleanup_timeout_and_agent_end_delete_the_room(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "idle-co")
    idle, silent = await start_customer(client, "idle-co"), await start_customer(client, "idle-co")
    async with runtime.db() as db:
        await db.execute(update(AgentSession)
                         .where(AgentSession.session_id == idle["session_id"])
                         .values(last_activity_at=utcnow() - timedelta(hours=25)))
        await db.commit()
    assert (await run_cleanup(runtime)).timed_out == [idle["session_id"]]
    assert _recorded(runtime) == [idle["room_name"]]
    # what a voice job does for a silent caller
    assert await close_session(runtime, silent["session_id"], scope=Scope.system(), role="customer",
                               status=SessionStatus.ended, reason="silence")
    assert _recorded(runtime) == [idle["room_name"], silent["room_name"]]


async def test_livekit_down_does_not_make_ending_fail(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "down-co")
    s = await start_customer(client, "down-co")
    runtime.rooms = down = DownRooms()
    started = time.monotonic()
    r = await client.post(f"/v1/sessions/{s['session_id']}/end",
                          headers=bearer(s["session_token"]))
    elapsed = time.monotonic() - started
    assert r.status_code == 200 and r.json()["status"] == "ended", r.text
    # tried, bounded, and the row and keys were settled before trying
    assert down.attempts == [s["room_name"]] * ATTEMPTS
    assert elapsed < 5, elapsed
    async with runtime.db() as db:
        row = await sessions_repo.get(db, s["session_id"], scope=Scope.system())
    assert row is not None and row.status == "ended"
    assert await runtime.store.exists(*all_session_keys(s["session_id"])) == 0
    # while it stays down, each further end tries once (a cleanup run of many
    # sessions does not wait out every retry)
    other = await start_customer(client, "down-co")
    r = await client.post(f"/v1/sessions/{other['session_id']}/end",
                          headers=bearer(other["session_token"]))
    assert r.status_code == 200 and down.attempts.count(other["room_name"]) == 1
    # back up: the next deletion is asked normally
    runtime.rooms = up = RecordingRooms()
    up.down_until = down.down_until
    assert await close_session(runtime, other["session_id"], scope=Scope.system(), role="customer",
                               status=SessionStatus.ended, reason="again") is False
    assert up.deleted == [other["room_name"]] and up.down_until == 0.0


async def test_real_client_with_unreachable_livekit_still_ends(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The real LiveKit API client, pointed at a port nothing listens on."""
    await create_business(client, "gone-co")
    s = await start_customer(client, "gone-co")
    settings = runtime.settings
    assert settings.livekit_url and settings.livekit_api_key and settings.livekit_api_secret
    runtime.rooms = LiveKitRoomCloser(settings.livekit_url, settings.livekit_api_key,
                                      settings.livekit_api_secret.get_secret_value())
    try:
        r = await client.post(f"/v1/sessions/{s['session_id']}/end",
                              headers=bearer(s["session_token"]))
        assert r.status_code == 200 and r.json()["status"] == "ended", r.text
    finally:
        await runtime.rooms.aclose()
        runtime.rooms = None


async def test_no_livekit_no_room_deletion(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "text-co")
    s = await start_customer(client, "text-co")
    runtime.rooms = None  # LiveKit not configured
    r = await client.post(f"/v1/sessions/{s['session_id']}/end",
                          headers=bearer(s["session_token"]))
    assert r.status_code == 200 and r.json()["status"] == "ended"
