"""A customer asks for a person (issue 14 part 2, first slice): by the chat
page's button or the assistant's request_human tool the session is marked
waiting and the business's webhook gets one signed handoff.requested."""

from __future__ import annotations

import json

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.helpers import assert_error, bearer, create_business, start_customer
from tests.webhook_receiver import receiver
from voxa.agent.scripted_llm import ScriptedLLM, command_script
from voxa.runtime import Runtime
from voxa.sessions import handoff
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.webhooks.sender import run_due


@pytest.fixture
def model() -> ScriptedLLM:
    return ScriptedLLM(command_script)


async def waiting(rt: Runtime, session_id: str) -> handoff.HandoffState | None:
    async with rt.db() as db:
        row = await sessions_repo.get(db, session_id, scope=Scope.system())
    assert row is not None
    return handoff.current(row.context_data)


async def test_the_button_marks_the_session_waiting_and_tells_the_business_once(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(update={"webhooks_allow_private": True})
    owner = await create_business(client, "desk-co")
    async with receiver() as rec:
        r = await client.post("/v1/businesses/desk-co/webhooks", headers=bearer(owner["token"]),
                              json={"url": rec.url, "events": ["handoff.requested"]})
        secret = r.json()["secret"]
        s = await start_customer(client, "desk-co")
        url = f"/v1/sessions/{s['session_id']}/handoff"
        assert await waiting(runtime, s["session_id"]) is None
        r = await client.post(url, headers=bearer(s["session_token"]))
        assert r.status_code == 202, r.text
        assert (r.json()["state"], r.json()["via"], r.json()["first_request"]) == (
            "waiting", "button", True)
        r = await client.post(url, headers=bearer(s["session_token"]))
        assert r.status_code == 202 and r.json()["first_request"] is False
        state = await waiting(runtime, s["session_id"])
        assert state is not None and state["via"] == "button"
        assert await run_due(runtime) == {"succeeded": 1}  # one event, not two
    [got] = rec.requests
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "handoff.requested"
    assert payload["data"]["session_id"] == s["session_id"]


async def test_the_assistant_asks_for_a_person_with_request_human(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    await create_business(client, "tool-co")
    s = await start_customer(client, "tool-co")
    r = await client.post(f"/v1/sessions/{s['session_id']}/messages",
                          headers=bearer(s["session_token"]),
                          json={"text": "/tool request_human " + json.dumps(
                              {"reason": "refund for a broken cake"})})
    assert r.status_code == 200, r.text
    state = await waiting(runtime, s["session_id"])
    assert state is not None
    assert (state["via"], state["reason"]) == ("assistant", "refund for a broken cake")


async def test_only_the_holder_of_a_live_session_may_ask(client: httpx.AsyncClient) -> None:
    await create_business(client, "own-co")
    s = await start_customer(client, "own-co")
    other = await start_customer(client, "own-co", name="Other")
    url = f"/v1/sessions/{s['session_id']}/handoff"
    assert_error(await client.post(url), 401)
    r = await client.post(url, headers=bearer(other["session_token"]))
    assert_error(r, (403, 404))
    r = await client.post(f"/v1/sessions/{s['session_id']}/end",
                          headers=bearer(s["session_token"]))
    assert r.status_code == 200
    r = await client.post(url, headers=bearer(s["session_token"]))
    assert_error(r, (404, 410))
