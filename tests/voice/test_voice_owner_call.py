"""The business's owner joins a customer's call (issue 14 part 2, voice), with
two fake microphones: the customer's and the owner's, each a real rtc client
on the real livekit-server with the real worker (scripted model: it answers
"You said: …" at once, so any reply would come quickly).

While the owner is in the room the customer speaks, the turn is transcribed
and stored, and the agent publishes no speech on its track; the text side
sees the session taken over. When the owner leaves, the agent says it is
back, and answers the customer's next question. The owner's dashboard sees the
session leave its waiting list as the owner joins."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httpx
import pytest

from tests.voice.conftest import speech
from tests.voice.heard import heard_in
from tests.voice.helpers import (
    bearer,
    business,
    heard_and_answered,
    history,
    join,
    start,
    wait_history,
)
from voxa.voice.client import VoiceClient

pytestmark = [pytest.mark.slow, pytest.mark.voice]


async def waiting(api: httpx.AsyncClient, slug: str, token: str) -> set[str]:
    """The sessions the owner's dashboard lists as waiting for a person: the
    first ``handoff`` event of the business's event stream."""
    async with api.stream("GET", f"/v1/businesses/{slug}/events",
                          headers=bearer(token)) as r:
        assert r.status_code == 200
        event = ""
        async for line in r.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event == "handoff":
                return {w["session_id"] for w in json.loads(line.removeprefix("data:"))["waiting"]}
    raise AssertionError("the event stream ended without a handoff event")


async def waiting_becomes(api: httpx.AsyncClient, slug: str, token: str,
                          predicate: Callable[[set[str]], bool], within: float = 30) -> bool:
    deadline = time.monotonic() + within
    while not predicate(await waiting(api, slug, token)):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


async def test_the_agent_is_silent_while_the_owner_is_in_the_call(
        api: httpx.AsyncClient, clients: list[VoiceClient]) -> None:
    slug, owner_token = await business(api, "callshop")
    grant = await start(api, {"role": "customer", "business": slug, "customer": {"name": "Ana"}})
    customer = await join(clients, grant)
    assert await customer.wait_for_turn(90), "the greeting never ended"

    # Before the owner: how long the agent takes to start answering here, now.
    pcm, rate = await speech("Please tell me about the guitar.")
    ended = await customer.say(pcm, rate)
    assert await customer.wait_for(
        lambda: customer.agent_audio.voiced_after(ended) is not None, 90), "no reply before"
    answered = customer.agent_audio.voiced_after(ended)
    assert answered is not None
    latency = answered - ended
    assert await customer.wait_for_turn(90)
    msgs = await wait_history(api, grant, lambda m: heard_and_answered(m, "guitar"))
    assert heard_and_answered(msgs, "guitar"), msgs

    # The owner joins with the browser's token and speaks.
    sid = grant["session_id"]
    r = await api.post(f"/v1/sessions/{sid}/handoff", headers=bearer(grant["session_token"]))
    assert r.status_code == 202 and r.json()["state"] == "waiting", r.text
    assert await waiting_becomes(api, slug, owner_token, lambda ids: sid in ids)
    r = await api.post(f"/v1/sessions/{sid}/join-call",
                       headers=bearer(owner_token))
    assert r.status_code == 200, r.text
    call = r.json()
    owner = VoiceClient(call["url"], call["token"], record_audio=False)
    clients.append(owner)
    await owner.connect()
    assert await owner.wait_for_agent(30), "the owner is not in the customer's room"
    hello, hello_rate = await speech("Hello Ana, this is Olu from the shop.")
    await owner.say(hello, hello_rate)
    # the dashboard agrees: taken over, the session left the waiting list
    assert await waiting_becomes(api, slug, owner_token, lambda ids: sid not in ids), (
        "the session was never marked taken over")

    # The customer speaks to the owner: heard and stored, but no reply.
    pcm, rate = await speech("Please tell me about the volcano.")
    quiet_from = await customer.say(pcm, rate)
    msgs = await wait_history(api, grant, lambda m: any(
        mm["role"] == "user" and heard_in("volcano", mm["content"]) for mm in m), within=90)
    stored = [m for m in msgs if m["role"] == "user" and heard_in("volcano", m["content"])]
    assert stored, msgs
    # Ten times the measured reply time (at least 10 s) without a sound from the agent.
    window = max(10.0, 10 * latency)
    spoke = await customer.wait_for(
        lambda: customer.agent_audio.voiced_after(quiet_from) is not None, window)
    assert not spoke, f"the agent spoke while the owner was in the call ({latency=:.1f}s)"
    assert not customer.agent_said(quiet_from), customer.agent_said(quiet_from)
    after = await history(api, grant)
    assert after[-1]["role"] == "user", after[-3:]

    # The owner leaves: the agent is back and answers the next question.
    left = time.monotonic()
    await owner.aclose()
    clients.remove(owner)
    assert await customer.wait_for(
        lambda: any("back" in s.lower() for s in customer.agent_said(left)), 60), "no resume line"
    assert await customer.wait_for(
        lambda: customer.agent_states[-1] == "listening", 60), "the agent never listened again"
    pcm, rate = await speech("Please tell me about the rocket.")
    ended = await customer.say(pcm, rate)
    assert await customer.wait_for(
        lambda: customer.agent_audio.voiced_after(ended) is not None, 90), "no reply after"
    msgs = await wait_history(api, grant, lambda m: heard_and_answered(m, "rocket"))
    assert heard_and_answered(msgs, "rocket"), msgs


async def test_an_owner_already_in_the_room_is_not_taken_for_the_caller(
        api: httpx.AsyncClient, clients: list[VoiceClient]) -> None:
    """The owner joins before the customer (as after an agent restart with the
    owner in the call): the agent serves the customer, silent while the owner
    is there, instead of refusing the job on the owner's identity."""
    slug, owner_token = await business(api, "earlyowner")
    grant = await start(api, {"role": "customer", "business": slug, "customer": {"name": "Eve"}})
    r = await api.post(f"/v1/sessions/{grant['session_id']}/join-call",
                       headers=bearer(owner_token))
    assert r.status_code == 200, r.text
    owner = VoiceClient(r.json()["url"], r.json()["token"], record_audio=False)
    clients.append(owner)
    await owner.connect()
    customer = await join(clients, grant)  # an agent that listens to the customer
    left = time.monotonic()
    await owner.aclose()
    clients.remove(owner)
    assert await customer.wait_for(
        lambda: any("back" in s.lower() for s in customer.agent_said(left)), 60), (
        "the agent did not serve the customer once the owner left")
