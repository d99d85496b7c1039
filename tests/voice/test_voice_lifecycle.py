"""Voice obeys the session lifecycle, on a real livekit-server, a real worker
and real rtc clients: ending a session removes its caller and agent and deletes
its room; a silent caller is told goodbye and the session ends; room text
obeys the HTTP length limit and the per-session turn rate.

The stack of this module runs with a short silence timeout and a low turn
rate (``VOICE_ENV``) so both are reached in seconds; other modules keep theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from livekit import api as lkapi

from tests.live_server import LiveServer
from tests.voice.helpers import bearer, business, join, start, wait_history
from voxa.kv import TTLStore
from voxa.kv.keys import agent_pid_key
from voxa.voice.client import VoiceClient
from voxa.voice.room_text import TOO_LONG_NOTICE
from voxa.voice.silence import GOODBYE

pytestmark = [pytest.mark.slow, pytest.mark.voice]

SILENCE_S = 20
VOICE_ENV = {"VOXA_VOICE_SILENCE_SECONDS": str(SILENCE_S),
             "VOXA_LIMIT_TURNS_PER_SESSION": "3/minute"}

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def livekit_api(voice_stack: LiveServer,
                      grant: dict[str, Any]) -> AsyncIterator[lkapi.LiveKitAPI]:
    """LiveKit's server API with the stack's own key, to see which rooms exist."""
    secret = (voice_stack.data_dir / "livekit" / "livekit_secret").read_text().strip()
    client = lkapi.LiveKitAPI(grant["livekit"]["url"], "voxa", secret)
    try:
        yield client
    finally:
        await client.aclose()


async def eventually(check: Callable[[], Awaitable[bool]], within: float) -> bool:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.25)
    return True


async def room_exists(livekit: lkapi.LiveKitAPI, name: str) -> bool:
    rooms = await livekit.room.list_rooms(lkapi.ListRoomsRequest(names=[name]))
    return any(r.name == name for r in rooms.rooms)


async def room_gone(livekit: lkapi.LiveKitAPI, name: str) -> bool:
    return not await room_exists(livekit, name)


async def session(api: httpx.AsyncClient, grant: dict[str, Any]) -> dict[str, Any]:
    r = await api.get(f"/v1/sessions/{grant['session_id']}",
                      headers=bearer(grant["session_token"]))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def agent_gone(api: httpx.AsyncClient, store: TTLStore, grant: dict[str, Any]) -> bool:
    """The job ended: it marked itself exited and its heartbeat key is gone."""
    return ((await session(api, grant)).get("agent_status") == "exited"
            and not await store.exists(agent_pid_key(grant["session_id"])))


async def test_end_with_caller_connected_removes_everyone_and_the_room(
        api: httpx.AsyncClient, clients: list[VoiceClient], store: TTLStore,
        voice_stack: LiveServer) -> None:
    slug, owner = await business(api, "ender")
    grant = await start(api, {"role": "customer", "business": slug, "customer": {"name": "Eli"}})
    c = await join(clients, grant, record_audio=False)
    room = grant["room_name"]
    async with livekit_api(voice_stack, grant) as livekit:
        assert await store.exists(agent_pid_key(grant["session_id"]))
        assert await room_exists(livekit, room)

        ended_at = time.monotonic()
        r = await api.post(f"/v1/sessions/{grant['session_id']}/end", headers=bearer(owner))
        assert r.status_code == 200 and r.json()["end_reason"] == "ended_by_owner", r.text
        assert await c.wait_for(lambda: not c.room.isconnected(), 15), "the caller is still in"
        caller_out_s = time.monotonic() - ended_at
        assert await eventually(lambda: room_gone(livekit, room), 15)
        assert await eventually(lambda: agent_gone(api, store, grant), 20), (
            await session(api, grant))
    log.info("ended: caller out after %.1f s, agent gone after %.1f s",
             caller_out_s, time.monotonic() - ended_at)


async def test_silent_caller_is_told_goodbye_and_the_session_ends(
        api: httpx.AsyncClient, clients: list[VoiceClient], store: TTLStore,
        voice_stack: LiveServer) -> None:
    slug, _ = await business(api, "hush")
    grant = await start(api, {"role": "customer", "business": slug, "customer": {"name": "Sam"}})
    c = await join(clients, grant, record_audio=False)
    ready_at = time.monotonic()
    # the caller says nothing and never hangs up
    assert await c.wait_for(lambda: "Goodbye" in " ".join(c.agent_said()), SILENCE_S + 60), (
        c.agent_said())
    assert time.monotonic() - ready_at > SILENCE_S - 2
    assert await c.wait_for(lambda: not c.room.isconnected(), 30), "the caller is still in"
    row = await session(api, grant)
    assert (row["status"], row["end_reason"]) == ("ended", "silence"), row
    async with livekit_api(voice_stack, grant) as livekit:
        assert await eventually(lambda: room_gone(livekit, grant["room_name"]), 15)
    assert await eventually(lambda: agent_gone(api, store, grant), 20), await session(api, grant)
    msgs = await wait_history(api, grant, lambda m: m and m[-1]["content"] == GOODBYE, 10)
    assert msgs[-1]["role"] == "assistant" and msgs[-1]["content"] == GOODBYE, msgs


async def test_room_text_obeys_length_and_rate_limits(
        api: httpx.AsyncClient, clients: list[VoiceClient], voice_stack: LiveServer) -> None:
    slug, _ = await business(api, "texter")
    grant = await start(api, {"role": "customer", "business": slug, "customer": {"name": "Tex"}})
    c = await join(clients, grant, record_audio=False)
    assert await c.wait_for_turn(60)

    def answered(word: str) -> Callable[[list[dict[str, Any]]], bool]:
        return lambda m: any(x["role"] == "assistant" and word in x["content"] for x in m)

    await c.send_text("Tell me about apples")  # 1 of 3 this minute
    assert answered("apples")(await wait_history(api, grant, answered("apples"), 60))
    oversize = "zebra " * 700  # 4200 characters: over max_text_chars (4000)
    await c.send_text(oversize)  # 2 of 3: refused, with a spoken notice
    assert await c.wait_for(lambda: "too long" in " ".join(c.agent_said()), 60), (
        c.agent_said())
    await c.send_text("Tell me about pears")  # 3 of 3
    assert answered("pears")(await wait_history(api, grant, answered("pears"), 60))
    await c.send_text("Tell me about plums")  # 4: over the rate, dropped silently

    async def dropped() -> bool:
        return any("room_text_refused" in line and "rate_limited" in line
                   for line in voice_stack.log_text().splitlines())

    assert await eventually(dropped, 30)

    msgs = await wait_history(api, grant, answered("pears"), 10)
    text = " ".join(m["content"] for m in msgs)
    # neither refused text reached the model or the transcript; no notice was kept
    assert "zebra" not in text and "plums" not in text and TOO_LONG_NOTICE not in text, msgs
    assert [m["content"] for m in msgs if m["role"] == "user"] == [
        "Tell me about apples", "Tell me about pears"], msgs
