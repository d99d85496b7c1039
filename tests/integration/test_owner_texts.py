"""Issue 10 §3: an owner's greeting and instructions are data, not format strings."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.runtime import Runtime
from voxa.storage.models import AgentConfig, Business

PAYLOADS = ["{0}", "{name!z}", "{name:>300000000}", "{name.__class__.__mro__}",
            "{business[0]}", "{who}", "Hello {name", "Bye }"]


async def _agent_texts(rt: Runtime, slug: str) -> tuple[dict[str, Any], dict[str, Any]]:
    async with rt.db() as db:
        agent = (await db.execute(
            select(AgentConfig).join(Business, Business.id == AgentConfig.business_id)
            .where(Business.slug == slug))).scalar_one()
        return dict(agent.greeting), dict(agent.instructions)


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_bad_placeholders_refused_at_save(client: httpx.AsyncClient, runtime: Runtime,
                                                payload: str) -> None:
    owner = await create_business(client, "fmt-co")
    url, h = "/v1/businesses/fmt-co/agent", bearer(owner["token"])
    before = await _agent_texts(runtime, "fmt-co")
    for field in ("greeting", "instructions"):
        r = await client.patch(url, json={field: {"customer": f"Hi! {payload}"}}, headers=h)
        assert_error(r, 422, "validation_error")
        shown = payload if "{" in payload and "}" in payload else "unbalanced"
        assert shown in r.json()["error"]["message"]
        assert f"{field}.customer" in r.json()["error"]["message"]
    assert await _agent_texts(runtime, "fmt-co") == before


async def test_good_texts_and_escapes_are_saved_and_rendered(client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "good-co", name="Good Co")
    r = await client.patch("/v1/businesses/good-co/agent", headers=bearer(owner["token"]),
                           json={"greeting": {"customer": "Hi {name} {{at}} {business}!"},
                                 "instructions": {"customer": "Serve {name} of {business}."}})
    assert r.status_code == 200, r.text
    assert r.json()["greeting"]["customer"] == "Hi {name} {{at}} {business}!"
    s = await start_customer(client, "good-co", name="Mia")
    assert s["greeting"] == "Hi Mia {at} Good Co!"


async def test_owner_texts_are_length_limited(client: httpx.AsyncClient,
                                              runtime: Runtime) -> None:
    owner = await create_business(client, "long-co")
    url, h = "/v1/businesses/long-co/agent", bearer(owner["token"])
    before = await _agent_texts(runtime, "long-co")
    for body in ({"greeting": {"customer": "x" * 501}},
                 {"instructions": {"owner": "x" * 4001}},
                 {"default_voice": "v" * 65}):
        assert_error(await client.patch(url, json=body, headers=h), 422, "validation_error")
    assert await _agent_texts(runtime, "long-co") == before
    ok = await client.patch(url, json={"greeting": {"customer": "x" * 500},
                                       "instructions": {"owner": "y" * 4000}}, headers=h)
    assert ok.status_code == 200, ok.text


async def test_longest_business_name_signs_up(client: httpx.AsyncClient) -> None:
    # the default agent is named after the business: it must fit agents.name too
    await create_business(client, "wide-co", name="W" * 200)
    r = await client.post("/v1/businesses", json={
        "name": "W" * 201, "slug": "wider-co",
        "owner": {"email": "o@wider.example.com", "name": "O", "password": "password123"}})
    assert_error(r, 422, "validation_error")


@pytest.mark.parametrize("payload", ["{0}", "{name!z}", "{name:>300000000}", "{"])
async def test_texts_stored_before_validation_still_start_sessions(
        client: httpx.AsyncClient, runtime: Runtime, payload: str) -> None:
    await create_business(client, "old-co")
    async with runtime.db() as db:
        agent = (await db.execute(
            select(AgentConfig).join(Business, Business.id == AgentConfig.business_id)
            .where(Business.slug == "old-co"))).scalar_one()
        agent.greeting = {"customer": f"Hi {{name}}! {payload}"}
        agent.instructions = {"customer": f"Be kind. {payload}"}
        business_id = agent.business_id
        await db.commit()
    assert business_id is not None
    await runtime.directory.changed(runtime.store, business_id=business_id, slug="old-co")
    s = await start_customer(client, "old-co", name="Mia")
    assert s["greeting"] == f"Hi Mia! {payload}"
    r = await client.post(f"/v1/sessions/{s['session_id']}/messages", json={"text": "hello"},
                          headers=bearer(s["session_token"]))
    assert r.status_code in (200, 201), r.text
    assert len(r.content) < 10_000
