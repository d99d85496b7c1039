"""Deterministic tool-calling tests: a scripted LLM (a real ``llm.LLM``
subclass) issues the tool calls; effects are checked in the database; no
argument the model invents reaches another tenant or user."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.helpers import bearer, create_business, create_user, start_customer, start_with_token
from voxa.agent.scripted_llm import ScriptedLLM, command_script
from voxa.runtime import Runtime
from voxa.storage.models import Memory, Ticket


@pytest.fixture
def model() -> ScriptedLLM:
    return ScriptedLLM(command_script)


async def say(client: httpx.AsyncClient, s: dict[str, Any], text: str,
              token: str | None = None) -> str:
    r = await client.post(f"/v1/sessions/{s['session_id']}/messages", json={"text": text},
                          headers=bearer(token or s["session_token"]))
    assert r.status_code == 200, r.text
    return str(r.json()["reply"]["content"])


async def call(client: httpx.AsyncClient, s: dict[str, Any], tool: str, token: str | None = None,
               **args: Any) -> str:
    return await say(client, s, f"/tool {tool} {json.dumps(args)}", token)


async def _tickets(rt: Runtime) -> list[Ticket]:
    from sqlalchemy import select

    async with rt.db() as db:
        return list((await db.execute(select(Ticket))).scalars())


async def test_customer_ticket_tools_and_owner_sees_them(client: httpx.AsyncClient,
                                                         runtime: Runtime) -> None:
    owner = await create_business(client, "tix-co")
    c1 = await start_customer(client, "tix-co", "Cara")
    c2 = await start_customer(client, "tix-co", "Cole")
    out = await call(client, c1, "create_ticket", subject="Cake arrived broken",
                     body="The top layer collapsed", priority="high")
    assert out.startswith("TOOL: Ticket ") and "high priority" in out
    await call(client, c2, "create_ticket", subject="Wrong order", body="Got muffins")
    [t1] = [t for t in await _tickets(runtime) if t.session_id == c1["session_id"]]
    assert (t1.business_id, t1.priority, t1.status) == (owner["business"]["id"], "high", "open")
    # ticket_status shows only the caller's own tickets
    mine = await call(client, c1, "ticket_status")
    assert "Cake arrived broken" in mine and "Wrong order" not in mine
    # the owner's ticket list (HTTP) shows both
    r = await client.get("/v1/businesses/tix-co/tickets", headers=bearer(owner["token"]))
    assert {t["subject"] for t in r.json()["tickets"]} == {"Cake arrived broken", "Wrong order"}
    # tool calls are persisted as tool messages, in order
    msgs = (await client.get(f"/v1/sessions/{c1['session_id']}/messages",
                             headers=bearer(c1["session_token"]))).json()["messages"]
    assert [m["role"] for m in msgs[:3]] == ["user", "tool", "assistant"]


async def test_owner_tools(client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await create_business(client, "boss-co")
    c = await start_customer(client, "boss-co")
    await call(client, c, "create_ticket", subject="Late delivery", body="2 hours late")
    o = await start_with_token(client, owner["token"], "owner")
    listed = await call(client, o, "list_tickets", token=owner["token"], status="open")
    assert "Late delivery" in listed
    [t] = await _tickets(runtime)
    out = await call(client, o, "update_ticket", token=owner["token"], ticket_id=t.id[:8],
                     status="closed")
    assert "is now closed" in out
    assert (await _tickets(runtime))[0].status == "closed"
    stats = json.loads((await call(client, o, "business_stats", token=owner["token"]))[6:])
    assert stats["total_sessions"] == 2 and stats["active_sessions"] == 2
    r = await client.patch(f"/v1/businesses/boss-co/tickets/{t.id}", json={"status": "pending"},
                           headers=bearer(owner["token"]))
    assert r.status_code == 200 and r.json()["status"] == "pending"


async def test_invented_arguments_never_cross_tenants(client: httpx.AsyncClient,
                                                      runtime: Runtime) -> None:
    owner_a = await create_business(client, "ten-a")
    owner_b = await create_business(client, "ten-b")
    cust_a = await start_customer(client, "ten-a")
    await call(client, cust_a, "create_ticket", subject="A's secret issue", body="private")
    [ticket_a] = await _tickets(runtime)
    cust_b = await start_customer(client, "ten-b")
    owner_b_session = await start_with_token(client, owner_b["token"], "owner")

    # A customer of B asking for owner tools, or for A's tickets, gets nothing.
    for tool, args in [("list_tickets", {}), ("update_ticket",
                                               {"ticket_id": ticket_a.id, "status": "closed"}),
                       ("business_stats", {})]:
        out = await call(client, cust_b, tool, **args)
        assert "Unknown function" in out and "secret" not in out
    assert "secret" not in await call(client, cust_b, "ticket_status")
    # B's owner cannot see or change A's ticket, whatever id the model passes.
    assert "secret" not in await call(client, owner_b_session, "list_tickets",
                                      token=owner_b["token"])
    out = await call(client, owner_b_session, "update_ticket", token=owner_b["token"],
                     ticket_id=ticket_a.id, status="closed")
    assert out.startswith("TOOL: No ticket")
    stats = json.loads((await call(client, owner_b_session, "business_stats",
                                   token=owner_b["token"]))[6:])
    assert stats["total_sessions"] == 2  # B's two sessions only
    assert (await _tickets(runtime))[0].status == "open"
    # A general user has no ticket tools at all.
    gen = await create_user(client, "g@example.com")
    g = await start_with_token(client, gen["token"], "general")
    assert "Unknown function" in await call(client, g, "create_ticket", token=gen["token"],
                                            subject="x", body="y")
    assert owner_a["business"]["id"] == ticket_a.business_id


async def test_classic_memory_scenario_across_concurrent_sessions(
        client: httpx.AsyncClient) -> None:
    """alice stores favorite_color=blue, bob stores red, alice recalls blue."""
    alice = await create_user(client, "alice@example.com", "Alice")
    bob = await create_user(client, "bob@example.com", "Bob")
    sa, sb = await asyncio.gather(start_with_token(client, alice["token"], "general"),
                                  start_with_token(client, bob["token"], "general"))
    await asyncio.gather(
        call(client, sa, "remember", alice["token"], category="PREFERENCE",
             key="favorite_color", value="blue"),
        call(client, sb, "remember", bob["token"], category="PREFERENCE",
             key="favorite_color", value="red"),
    )
    ra, rb = await asyncio.gather(
        call(client, sa, "recall", alice["token"], query="favorite_color"),
        call(client, sb, "recall", bob["token"], query="what is my favorite color"),
    )
    assert "blue" in ra and "red" not in ra
    assert "red" in rb and "blue" not in rb
    # a second session of alice's sees her memory too
    sa2 = await start_with_token(client, alice["token"], "general")
    assert "blue" in await call(client, sa2, "recall", alice["token"], query="color")


async def test_memory_isolation_between_customers_and_businesses(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    await create_business(client, "mem-a")
    await create_business(client, "mem-b")
    same = {"email": "same@example.com"}
    c1 = await start_customer(client, "mem-a", "One", customer=same)
    c2 = await start_customer(client, "mem-a", "Two", customer=same)
    c3 = await start_customer(client, "mem-b", "Three", customer=same)
    await call(client, c1, "remember", category="FACT", key="pet", value="a parrot named Kiwi")
    for other in (c2, c3):
        out = await call(client, other, "recall", query="pet parrot Kiwi")
        assert "Kiwi" not in out and "Nothing remembered" in out
    assert "Kiwi" in await call(client, c1, "recall", query="parrot")
    # the same customer id coming back finds its memories again
    back = await start_customer(client, "mem-a", customer={"customer_id": c1["customer_id"]})
    assert "Kiwi" in await call(client, back, "recall", query="pet")


async def test_extracted_memories_and_me_endpoints(client: httpx.AsyncClient) -> None:
    user = await create_user(client, "ext@example.com", "Ext")
    s = await start_with_token(client, user["token"], "general")
    await say(client, s, "Hi! My favorite color is green. I live in Lisbon. What time is it?",
              user["token"])
    r = await client.get("/v1/me/memories", headers=bearer(user["token"]))
    found = {(m["category"], m["key"], m["value"]) for m in r.json()["memories"]}
    assert ("PREFERENCE", "favorite_color", "green") in found
    assert ("FACT", "home_location", "Lisbon") in found
    assert r.json()["scope"] == "general"
    assert "green" in await call(client, s, "recall", user["token"], query="favorite color")
    # another user sees none of it
    other = await create_user(client, "other@example.com")
    r = await client.get("/v1/me/memories", headers=bearer(other["token"]))
    assert r.json()["memories"] == []
    r = await client.delete("/v1/me/memories", headers=bearer(other["token"]))
    assert r.json()["deleted"] == 0
    r = await client.delete("/v1/me/memories", headers=bearer(user["token"]))
    assert r.json()["deleted"] == 2
    assert (await client.get("/v1/me/memories", headers=bearer(user["token"]))).json()[
        "memories"] == []


async def test_bad_tool_arguments_are_tool_errors(client: httpx.AsyncClient,
                                                  runtime: Runtime) -> None:
    await create_business(client, "args-co")
    c = await start_customer(client, "args-co")
    out = await call(client, c, "create_ticket", subject="x", body="y", priority="whenever")
    assert "priority must be one of" in out
    out = await call(client, c, "remember", category="SECRETS", key="k", value="v")
    assert "category must be one of" in out
    assert await _tickets(runtime) == []
    from sqlalchemy import func, select

    async with runtime.db() as db:
        assert await db.scalar(select(func.count()).select_from(Memory)) == 0
