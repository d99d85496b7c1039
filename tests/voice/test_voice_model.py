"""A voice conversation with the real local model (SmolLM2) on its own stack:
the other voice tests check rooms, routing and processes with the scripted
model, whose instant echo keeps six concurrent sessions within what two cores
can speak (the local model answers one request at a time)."""

from __future__ import annotations

import httpx
import pytest

from tests.voice.conftest import speech
from tests.voice.heard import heard_as_meant
from tests.voice.helpers import business, join, start, wait_history
from voxa.voice.client import VoiceClient

pytestmark = [pytest.mark.slow, pytest.mark.voice]

VOICE_LLM = "local"  # this module's stack (conftest.voice_stack)


async def test_customer_voice_conversation(api: httpx.AsyncClient,
                                           clients: list[VoiceClient]) -> None:
    slug, _ = await business(api, "bakery")
    grant = await start(api, {"role": "customer", "business": slug, "customer": {"name": "Ann"}})
    c = await join(clients, grant)
    assert await c.wait_for(lambda: bool(c.agent_said()), 60), "no greeting"
    assert "Ann" in c.agent_said()[0]
    assert await c.wait_for_turn(60), "the greeting never ended"

    pcm, rate = await speech("What are your opening hours?")
    ended = await c.say(pcm, rate)
    assert await c.wait_for(lambda: bool(c.agent_said(ended)), 90), "no reply transcript"
    first_audio = c.agent_audio.voiced_after(ended)
    assert first_audio is not None, "no reply audio"

    msgs = await wait_history(api, grant, lambda m: len(m) >= 3)
    roles = [m["role"] for m in msgs]
    assert roles[:3] == ["assistant", "user", "assistant"], msgs
    assert heard_as_meant("What are your opening hours?", msgs[1]["content"]), msgs[1]
    assert msgs[2]["model_used"] == "smollm2-135m-instruct" and msgs[2]["content"].strip()
    # Text inside the voice room goes through the same agent and persistence.
    before = len(msgs)
    await c.send_text("Do you sell bread?")
    msgs = await wait_history(api, grant, lambda m: len(m) >= before + 2)
    assert any(m["role"] == "user" and m["content"] == "Do you sell bread?" for m in msgs)
    assert msgs[-1]["role"] == "assistant"
