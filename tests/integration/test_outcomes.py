"""Outcomes: closing a session stores its summary, disposition and
contact once; the owner's session list shows them and filters by outcome."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.helpers import bearer, create_business, start_customer
from voxa.agent.scripted_llm import ScriptedLLM, command_script
from voxa.runtime import Runtime
from voxa.sessions.outcomes import outcome_for
from voxa.storage.models import AgentSession
from voxa.storage.scope import Scope


@pytest.fixture
def model() -> ScriptedLLM:
    return ScriptedLLM(command_script)


async def say(client: httpx.AsyncClient, s: dict[str, Any], text: str) -> None:
    r = await client.post(f"/v1/sessions/{s['session_id']}/messages", json={"text": text},
                          headers=bearer(s["session_token"]))
    assert r.status_code == 200, r.text


async def end(client: httpx.AsyncClient, s: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(f"/v1/sessions/{s['session_id']}/end",
                          headers=bearer(s["session_token"]))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_outcomes_are_stored_listed_and_filtered(client: httpx.AsyncClient,
                                                       runtime: Runtime) -> None:
    owner = await create_business(client, "out-co")
    other = await create_business(client, "other-co")
    silent = await start_customer(client, "out-co", "Sam")
    happy = await start_customer(client, "out-co", "Hana",
                                 customer={"email": "hana@example.com"})
    ticket = await start_customer(client, "out-co", "Tim")
    person = await start_customer(client, "out-co", "Pat")
    await say(client, happy, "Do you have rye bread? I need two loaves.")
    await say(client, ticket, "/tool create_ticket " + json.dumps(
        {"subject": "Broken cake", "body": "It collapsed"}))
    await say(client, person, "I want to talk to someone.")
    async with runtime.db() as db:  # what the handoff (issue 14 part 2) records
        await db.execute(update(AgentSession).where(
            AgentSession.session_id == person["session_id"]).values(
            context_data={"display_name": "Pat", "handoff": "waiting"}))
        await db.commit()
    ended = {name: await end(client, s) for name, s in
             (("silent", silent), ("happy", happy), ("ticket", ticket), ("person", person))}
    assert {k: v["outcome"] for k, v in ended.items()} == {
        "silent": "abandoned", "happy": "resolved", "ticket": "ticket_opened",
        "person": "handed_to_person"}
    assert ended["happy"]["outcome_summary"] == "Do you have rye bread?"
    assert (ended["happy"]["contact_name"], ended["happy"]["contact_email"]) == (
        "Hana", "hana@example.com")
    # stored once: ending again changes nothing
    assert (await end(client, happy))["outcome"] == "resolved"

    h = bearer(owner["token"])
    r = await client.get("/v1/businesses/out-co/sessions?outcome=ticket_opened", headers=h)
    assert [s["session_id"] for s in r.json()["sessions"]] == [ticket["session_id"]]
    r = await client.get("/v1/businesses/out-co/sessions?outcome=nonsense", headers=h)
    assert r.status_code == 422
    r = await client.get("/v1/businesses/other-co/sessions?outcome=resolved",
                         headers=bearer(other["token"]))
    assert r.json()["sessions"] == []
    # what the webhook sender reads
    async with runtime.db() as db:
        found = await outcome_for(db, happy["session_id"],
                                  scope=Scope.business(owner["business"]["id"]))
        assert found is not None and found.outcome == "resolved"
        assert await outcome_for(db, happy["session_id"],
                                 scope=Scope.business(other["business"]["id"])) is None
