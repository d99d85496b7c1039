"""Isolation at the model's prompt. Many text sessions run at once across three
businesses and all three roles, each with its own name, memories (the remember
tool and extraction), a running summary (a long conversation that folds) and
tool output (tickets). The recording model keeps every prompt with the session
it ran for: each prompt holds only its own session's data (an owner's: its own
business's), and each session's own data does reach its prompt."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, update

from tests.helpers import bearer, create_user
from voxa.agent.recording_llm import RecordingLLM, crossings
from voxa.runtime import Runtime
from voxa.storage.models import AgentMessage, AgentSession

BUSINESSES = 3
CUSTOMERS = 3  # per business
GENERALS = 3
PASSWORD = "correct horse battery"


def marker() -> str:
    """A unique word no template contains (hex digits mapped onto letters)."""
    return "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:12]).capitalize()


@dataclass
class Holder:
    label: str
    role: str
    business: str | None
    token: str = ""
    session_id: str = ""
    name: str = field(default_factory=marker)
    extracted: str = field(default_factory=marker)
    remembered: str = field(default_factory=marker)
    summary: str = field(default_factory=marker)
    ticket: str = field(default_factory=marker)

    @property
    def markers(self) -> set[str]:
        own = {self.name, self.extracted, self.remembered, self.summary}
        return own | ({self.ticket} if self.role == "customer" else set())


@pytest.fixture
def model() -> RecordingLLM:
    return RecordingLLM()


async def _fill(rt: Runtime, sid: str, word: str, n: int = 50) -> None:
    """A long conversation so far: the first turn folds it into the summary."""
    async with rt.db() as db:
        await db.execute(insert(AgentMessage), [
            {"session_id": sid, "role": "user" if i % 2 == 0 else "assistant",
             "content": f"note {word} number {i}" if i % 2 == 0 else f"ok {i}"}
            for i in range(n)])
        await db.execute(update(AgentSession).where(AgentSession.session_id == sid).values(
            message_count=AgentSession.message_count + n))
        await db.commit()


async def _world(client: httpx.AsyncClient, rt: Runtime
                 ) -> tuple[list[Holder], dict[str, str]]:
    holders: list[Holder] = []
    business_names: dict[str, str] = {}
    for b in range(BUSINESSES):
        slug = f"prompt-{b}"
        owner = Holder(f"{slug}/owner", "owner", slug)
        business_names[slug] = marker()
        r = await client.post("/v1/businesses", json={
            "name": business_names[slug], "slug": slug,
            "owner": {"email": f"owner@{slug}.example.com", "name": owner.name,
                      "password": PASSWORD}})
        assert r.status_code == 201, r.text
        owner.token = r.json()["token"]
        holders.append(owner)
        holders += [Holder(f"{slug}/cust{i}", "customer", slug) for i in range(CUSTOMERS)]
    for g in range(GENERALS):
        general = Holder(f"general{g}", "general", None)
        general.token = (await create_user(client, f"gen{g}@example.com", general.name))["token"]
        holders.append(general)

    async def start(h: Holder) -> None:
        if h.role == "customer":
            body: dict[str, Any] = {"role": "customer", "business": h.business,
                                    "customer": {"name": h.name}}
            r = await client.post("/v1/sessions", json=body)
        else:
            body = {"role": h.role, **({"business": h.business} if h.business else {})}
            r = await client.post("/v1/sessions", json=body, headers=bearer(h.token))
        assert r.status_code == 201, r.text
        h.session_id = r.json()["session_id"]
        if h.role == "customer":
            h.token = r.json()["session_token"]
        await _fill(rt, h.session_id, h.summary)

    await asyncio.gather(*(start(h) for h in holders))
    return holders, business_names


async def _say(client: httpx.AsyncClient, h: Holder, text: str) -> str:
    r = await client.post(f"/v1/sessions/{h.session_id}/messages", json={"text": text},
                          headers=bearer(h.token))
    assert r.status_code == 200, (h.label, r.text)
    return str(r.json()["reply"]["content"])


async def _converse(client: httpx.AsyncClient, h: Holder) -> None:
    await _say(client, h, f"My favourite colour is {h.extracted}.")
    remember = {"category": "FACT", "key": "passphrase", "value": h.remembered}
    assert "passphrase" in await _say(client, h, "/tool remember " + json.dumps(remember))
    if h.role == "customer":
        ticket = {"subject": f"broken {h.ticket}", "body": "it stopped working"}
        assert h.ticket in await _say(client, h, "/tool create_ticket " + json.dumps(ticket))
    await _say(client, h, "hello again")


def _allowed(holders: list[Holder], business_names: dict[str, str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for h in holders:
        mine = set(h.markers)
        if h.business is not None:
            mine.add(business_names[h.business])
        if h.role == "owner":  # an owner sees its own business's sessions' data
            for other in holders:
                if other.business == h.business:
                    mine |= other.markers
        out[h.session_id] = mine
    return out


async def test_each_prompt_holds_only_its_own_sessions_data(
    client: httpx.AsyncClient, runtime: Runtime, model: RecordingLLM
) -> None:
    holders, business_names = await _world(client, runtime)
    await asyncio.gather(*(_converse(client, h) for h in holders))
    owners = [h for h in holders if h.role == "owner"]
    # Owners read their business's tickets (tool output) once every ticket exists.
    listed = await asyncio.gather(*(_say(client, o, "/tool list_tickets {}") for o in owners))

    every = {m for h in holders for m in h.markers} | set(business_names.values())
    assert len(every) == len(holders) * 4 + BUSINESSES * (1 + CUSTOMERS)
    assert len(model.prompts) >= len(holders) * 4
    assert all(p.session is not None for p in model.prompts), "a prompt ran with no session"
    assert crossings(model.prompts, _allowed(holders, business_names), every) == []

    # Positive control: each session's own data does reach its own prompt, so
    # the check above is not vacuous.
    for h in holders:
        last = [p for p in model.prompts_for(h.session_id) if "hello again" in p.text][-1]
        assert h.name in last.system, h.label
        assert f"favorite_colour = {h.extracted}" in last.system or (
            h.extracted in last.system), h.label
        assert h.remembered in last.system, h.label
        assert "Earlier in this conversation" in last.system and h.summary in last.system
        if h.business is not None:
            assert business_names[h.business] in last.system, h.label
    for o, reply in zip(owners, listed, strict=True):
        own_tickets = {h.ticket for h in holders if h.business == o.business
                       and h.role == "customer"}
        assert all(t in reply for t in own_tickets), (o.label, reply)
        shown = [p for p in model.prompts_for(o.session_id) if "list_tickets" in p.text][-1]
        assert all(t in shown.text for t in own_tickets)
