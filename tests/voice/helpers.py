"""Helpers of the voice end-to-end tests: accounts, sessions and rooms through
the real API, and waiting on persisted history."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from livekit import rtc

from tests.voice.heard import heard_in
from voxa.voice.client import VoiceClient


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def business(api: httpx.AsyncClient, name: str) -> tuple[str, str]:
    slug = f"{name}-{uuid.uuid4().hex[:6]}"
    r = await api.post("/v1/businesses", json={"name": name.title(), "slug": slug, "owner": {
        "email": f"owner@{slug}.example.com", "name": "Olu", "password": "password123"}})
    assert r.status_code == 201, r.text
    return slug, r.json()["token"]


async def start(api: httpx.AsyncClient, body: dict[str, Any],
                token: str | None = None) -> dict[str, Any]:
    r = await api.post("/v1/sessions", json={"channel": "voice", **body},
                       headers=bearer(token) if token else {})
    assert r.status_code == 201, r.text
    assert r.json()["livekit"], "voxa serve should run LiveKit"
    return dict(r.json())


async def join(clients: list[VoiceClient], grant: dict[str, Any], *,
               record_audio: bool = True) -> VoiceClient:
    c = VoiceClient(grant["livekit"]["url"], grant["livekit"]["token"], record_audio=record_audio)
    clients.append(c)
    await c.connect()
    assert await c.wait_for_agent(60), "no agent joined"
    assert await c.wait_until_ready(60), "the agent never started listening"
    return c


async def history(api: httpx.AsyncClient, grant: dict[str, Any],
                  token: str | None = None) -> list[dict[str, Any]]:
    r = await api.get(f"/v1/sessions/{grant['session_id']}/messages?limit=200",
                      headers=bearer(token or grant["session_token"]))
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def wait_history(api: httpx.AsyncClient, grant: dict[str, Any], predicate: Any,
                       within: float = 60, token: str | None = None) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within
    while True:
        msgs = await history(api, grant, token)
        if predicate(msgs) or time.monotonic() > deadline:
            return msgs
        await asyncio.sleep(0.5)


def heard_and_answered(messages: list[dict[str, Any]], word: str) -> bool:
    """The user's turns (a question may be split in two) contain ``word`` (the
    word that carries the question's meaning, see ``heard``) and an assistant
    turn followed them."""
    users = ""
    for m in messages:
        if m["role"] == "user":
            users += " " + m["content"]
        elif heard_in(word, users):
            return True
    return False


def agent_voice(c: VoiceClient) -> str | None:
    for p in c.room.remote_participants.values():
        if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
            return p.attributes.get("voice")
    return None
