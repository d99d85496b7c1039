"""Business hours (issue 14 part 2): owners set weekly opening hours in a time
zone (strictly validated); outside them a request for a person — button or the
assistant's request_human tool — is answered with the next opening and the
offer of a ticket, and nobody is asked. The clock is the runtime's, set here."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.agent.scripted_llm import ScriptedLLM, command_script
from voxa.runtime import Runtime
from voxa.sessions import handoff
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope

# Mon-Fri 09:00-17:30 in Paris (UTC+1 in November)
HOURS = {"timezone": "Europe/Paris",
         "weekly": {d: [{"open": "09:00", "close": "17:30"}]
                    for d in ("mon", "tue", "wed", "thu", "fri")}}
SATURDAY_NOON = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)  # 12:00 in Paris
MONDAY_TEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Paris


@pytest.fixture
def model() -> ScriptedLLM:
    return ScriptedLLM(command_script)


async def waiting(rt: Runtime, session_id: str) -> handoff.HandoffState | None:
    async with rt.db() as db:
        row = await sessions_repo.get(db, session_id, scope=Scope.system())
    assert row is not None
    return handoff.current(row.context_data)


async def test_hours_are_validated_strictly_and_owners_only(client: httpx.AsyncClient,
                                                            runtime: Runtime) -> None:
    runtime.clock = lambda: SATURDAY_NOON
    owner = await create_business(client, "hours-co")
    other = await create_business(client, "other-co")
    url = "/v1/businesses/hours-co/hours"
    r = await client.get(url, headers=bearer(owner["token"]))
    assert r.status_code == 200 and r.json() == {"hours": None, "open_now": True,
                                                 "next_opening": None}
    bad = [
        {"timezone": "Mars/Olympus", "weekly": {}},
        {"timezone": "Europe/Paris", "weekly": {"monday": []}},
        {"timezone": "Europe/Paris", "weekly": {"mon": [{"open": "9:00", "close": "17:00"}]}},
        {"timezone": "Europe/Paris", "weekly": {"mon": [{"open": "18:00", "close": "17:00"}]}},
        {"timezone": "Europe/Paris", "weekly": {"mon": [{"open": "09:00", "close": "25:00"}]}},
        {"timezone": "Europe/Paris", "weekly": {"mon": [{"open": "09:00", "close": "13:00"},
                                                        {"open": "12:00", "close": "17:00"}]}},
        {"timezone": "Europe/Paris", "weekly": {}, "extra": 1},
    ]
    for hours in bad:
        assert_error(await client.put(url, headers=bearer(owner["token"]),
                                      json={"hours": hours}), 422)
    assert_error(await client.put(url, headers=bearer(other["token"]), json={"hours": HOURS}),
                 404)
    r = await client.put(url, headers=bearer(owner["token"]), json={"hours": HOURS})
    assert r.status_code == 200, r.text
    assert r.json()["open_now"] is False
    assert r.json()["next_opening"] == "2026-11-23T09:00:00+01:00"
    runtime.clock = lambda: MONDAY_TEN
    r = await client.get(url, headers=bearer(owner["token"]))
    assert (r.json()["open_now"], r.json()["hours"]) == (True, HOURS)


async def test_outside_hours_a_person_is_not_asked_and_a_ticket_is_offered(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    runtime.clock = lambda: SATURDAY_NOON
    owner = await create_business(client, "closed-co")
    r = await client.put("/v1/businesses/closed-co/hours", headers=bearer(owner["token"]),
                         json={"hours": HOURS})
    assert r.status_code == 200
    s = await start_customer(client, "closed-co")
    r = await client.post(f"/v1/sessions/{s['session_id']}/handoff",
                          headers=bearer(s["session_token"]))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["state"] == "closed" and body["first_request"] is False
    assert "Monday at 09:00" in body["message"] and "ticket" in body["message"]
    assert await waiting(runtime, s["session_id"]) is None
    # the assistant's tool gets the same answer
    r = await client.post(f"/v1/sessions/{s['session_id']}/messages",
                          headers=bearer(s["session_token"]),
                          json={"text": "/tool request_human " + json.dumps({"reason": "help"})})
    assert r.status_code == 200, r.text
    assert await waiting(runtime, s["session_id"]) is None
    r = await client.get(f"/v1/sessions/{s['session_id']}/messages",
                         headers=bearer(s["session_token"]))
    tool_outputs = [m["content"] for m in r.json()["messages"] if m["role"] == "tool"]
    assert any("We are closed now" in t and "ticket" in t for t in tool_outputs), tool_outputs
    # in opening hours the same button asks for a person
    runtime.clock = lambda: MONDAY_TEN
    r = await client.post(f"/v1/sessions/{s['session_id']}/handoff",
                          headers=bearer(s["session_token"]))
    assert r.status_code == 202 and r.json()["state"] == "waiting"
    assert await waiting(runtime, s["session_id"]) is not None
