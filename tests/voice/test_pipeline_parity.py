"""One pipeline for both channels: a conversation held in a real call (speech
through LiveKit, the voice worker, Whisper) and the same words sent as text
turns store the same things — messages, memories, the running summary and
the tool's effect (a ticket).

The text run replays what the call's recognition heard, so the comparison
judges the pipeline, not the recognizer. The fold threshold is small
(``VOICE_ENV``) so the summary is folded within a few turns; it is odd, so
the call's greeting (one message text sessions do not have) does not move
the turn at which the fold happens."""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.live_server import LiveServer
from tests.voice.conftest import speech
from tests.voice.helpers import bearer, business, history, join, start
from voxa.storage.db import create_engine, session_factory
from voxa.storage.models import AgentMessage, AgentSession, Memory, Ticket
from voxa.voice.client import VoiceClient

pytestmark = [pytest.mark.slow, pytest.mark.voice]

VOICE_ENV = {"VOXA_CONVERSATION_WINDOW": "2", "VOXA_SUMMARY_TRIM_AT": "5"}
SPOKEN = ["My name is Ann.", "I love pizza.", "Please tell me about the volcano."]
TYPED = "My order never arrived, please open a ticket."  # room text, in the call
_ID = re.compile(r"\b[0-9a-f]{8}(?:-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?\b")


@dataclass
class Stored:
    messages: list[tuple[str, str]]
    memories: set[tuple[str, str, str]]
    summary: str | None
    tickets: list[tuple[str, str, str, str]]


def _message(m: AgentMessage) -> tuple[str, str]:
    if m.role == "tool":
        d = json.loads(m.content)  # the output names the ticket's own id
        return m.role, json.dumps([d["name"], d["arguments"], d["is_error"]])
    return m.role, _ID.sub("<id>", m.content)


async def stored(server: LiveServer, session_id: str) -> Stored:
    engine = create_engine(server.database_url)
    try:
        async with session_factory(engine)() as db:
            row = (await db.execute(select(AgentSession).where(
                AgentSession.session_id == session_id))).scalar_one()
            msgs = (await db.execute(select(AgentMessage).where(
                AgentMessage.session_id == session_id).order_by(AgentMessage.id))).scalars()
            mems = (await db.execute(select(Memory).where(
                Memory.user_id == row.user_id))).scalars()
            tickets = (await db.execute(select(Ticket).where(
                Ticket.session_id == session_id))).scalars()
            return Stored(
                messages=[_message(m) for m in msgs],
                memories={(m.category, m.key, m.value) for m in mems},
                summary=(row.context_data or {}).get("summary"),
                tickets=[(t.subject, t.body, t.priority, t.status) for t in tickets])
    finally:
        await engine.dispose()


async def wait_stored(server: LiveServer, session_id: str, done: Any,
                      within: float = 90) -> Stored:
    deadline = time.monotonic() + within
    while True:
        s = await stored(server, session_id)
        if done(s) or time.monotonic() > deadline:
            return s
        await asyncio.sleep(0.5)


def answered(s: Stored, n: int) -> bool:
    """At least ``n`` messages, the last one a reply."""
    return len(s.messages) >= n and s.messages[-1][0] == "assistant"


async def wait_audio(api: httpx.AsyncClient, grant: dict[str, Any], pick: Any,
                     within: float = 60) -> list[dict[str, Any]]:
    """The picked messages once all have their audio (kept just after the turn)."""
    deadline = time.monotonic() + within
    while True:
        msgs = pick(await history(api, grant))
        if all(m["audio_url"] for m in msgs) or time.monotonic() > deadline:
            return list(msgs)
        await asyncio.sleep(0.5)


async def test_text_and_voice_store_the_same_conversation(
        api: httpx.AsyncClient, clients: list[VoiceClient], voice_stack: LiveServer) -> None:
    slug, _ = await business(api, "parity")
    grant = await start(api, {"role": "customer", "business": slug,
                              "customer": {"name": "Ann"}})
    sid = grant["session_id"]
    c = await join(clients, grant, record_audio=False)
    assert await c.wait_for(lambda: bool(c.agent_said()), 60), "no greeting"
    assert await c.wait_for_turn(60), "the greeting never ended"
    for phrase in SPOKEN:
        n = len((await stored(voice_stack, sid)).messages)
        await c.say(*await speech(phrase))
        assert answered(await wait_stored(voice_stack, sid, lambda s, n=n: answered(s, n + 2)),
                        n + 2), phrase
        assert await c.wait_for_turn(60)
    await c.send_text(TYPED)
    voice = await wait_stored(voice_stack, sid, lambda s: bool(s.tickets) and answered(
        s, 2) and s.messages[-3][1] == TYPED)

    # what the call stored: the pipeline's work, not only a transcript
    assert voice.messages[0][0] == "assistant"  # the greeting, a call's own line
    assert voice.memories, "the call learned nothing"
    assert voice.summary, "the call's old turns were never folded"
    assert voice.tickets and voice.tickets[0][0] == "My order never arrived"

    # each spoken turn and each reply to one kept its audio (OGG/Opus), served
    # to the session's holder
    def recorded(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        said = [m for m in msgs if m["role"] in ("user", "assistant")][1:]  # not the greeting
        return [m for m in said if m["content"] != TYPED and not m["content"].endswith(TYPED)]
    msgs = await wait_audio(api, grant, recorded)
    assert msgs and all(m["audio_url"] and m["audio_duration_ms"] > 300 for m in msgs), msgs
    # a caller's turn is the words, not the wait before them (each phrase < 3 s)
    assert all(m["audio_duration_ms"] < 4000 for m in msgs if m["role"] == "user"), msgs
    r = await api.get(msgs[0]["audio_url"], headers=bearer(grant["session_token"]))
    assert r.status_code == 200 and r.content[:4] == b"OggS"

    # the same words, as text turns
    r = await api.post("/v1/sessions", json={"channel": "text", "role": "customer",
                                             "business": slug, "customer": {"name": "Ann"}})
    assert r.status_code == 201, r.text
    text_grant = r.json()
    heard = [content for role, content in voice.messages if role == "user"]
    for words in heard:
        r = await api.post(f"/v1/sessions/{text_grant['session_id']}/messages",
                           json={"text": words}, headers=bearer(text_grant["session_token"]))
        assert r.status_code == 200, r.text
    text = await stored(voice_stack, text_grant["session_id"])

    assert text.messages == voice.messages[1:]
    assert text.memories == voice.memories
    assert text.summary == voice.summary
    assert text.tickets == voice.tickets
