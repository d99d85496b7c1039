"""A call is never silent: when the model fails or stalls mid-call the caller
hears the fallback line (audio, not only a transcript), the failure is logged,
and the next turn is answered as usual. The scripted model fails on demand
(``/fail``) and stalls past the bound (``/stall``), sent as room text."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.live_server import LiveServer
from tests.voice.conftest import speech
from tests.voice.helpers import business, history, join, start
from voxa.agent.fallback import MODEL_FAILED
from voxa.voice.client import VoiceClient

pytestmark = [pytest.mark.slow, pytest.mark.voice]

VOICE_ENV = {"VOXA_VOICE_MODEL_TIMEOUT_SECONDS": "3"}


async def test_caller_hears_a_reply_for_every_turn_when_the_model_fails(
        api: httpx.AsyncClient, clients: list[VoiceClient], voice_stack: LiveServer) -> None:
    slug, _ = await business(api, "faulty")
    grant = await start(api, {"role": "customer", "business": slug,
                              "customer": {"name": "Ann"}})
    c = await join(clients, grant)
    assert await c.wait_for(lambda: bool(c.agent_said()), 60), "no greeting"
    assert await c.wait_for_turn(60), "the greeting never ended"

    async def spoken(words: str) -> float:
        return await c.say(*await speech(words))

    async def typed(words: str) -> float:
        at = time.monotonic()
        await c.send_text(words)
        return at

    turns = [(spoken, "Please tell me about the banana.", "banana"),
             (typed, "/fail", MODEL_FAILED),
             (typed, "/stall 30", MODEL_FAILED),  # past the 3 s bound, well before 30 s
             (spoken, "Please tell me about the volcano.", "volcano")]
    silent = []
    for turn, words, expected in turns:
        at = await turn(words)
        heard = await c.wait_for(
            lambda at=at, expected=expected: expected.lower() in " ".join(
                c.agent_said(at)).lower() and c.agent_audio.voiced_after(at) is not None, 60)
        if not heard:
            silent.append((words, c.agent_said(at)))
        assert await c.wait_for_turn(60)
    assert silent == []

    msgs = await history(api, grant)
    fallbacks = [m for m in msgs if m["role"] == "assistant" and m["model_used"] == "fallback"]
    assert [m["content"].startswith(MODEL_FAILED) for m in fallbacks] == [True, True], msgs
    # logged by the job, with the stage that failed
    stages = re.findall(r"turn_fallback\b.*?\bstage=(\w+)", voice_stack.log_text())
    assert sorted(stages) == ["model", "model_timeout"], stages
