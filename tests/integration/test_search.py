"""Owners' search over their conversations: words in messages,
summaries and tickets, newest first, paged; never another business's rows."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.agent.scripted_llm import ScriptedLLM, command_script


@pytest.fixture
def model() -> ScriptedLLM:
    return ScriptedLLM(command_script)


async def say(client: httpx.AsyncClient, s: dict[str, Any], text: str) -> None:
    r = await client.post(f"/v1/sessions/{s['session_id']}/messages", json={"text": text},
                          headers=bearer(s["session_token"]))
    assert r.status_code == 200, r.text


async def find(client: httpx.AsyncClient, slug: str, token: str, q: str, **params: Any
               ) -> dict[str, Any]:
    r = await client.get(f"/v1/businesses/{slug}/search", params={"q": q, **params},
                         headers=bearer(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_search_finds_own_rows_newest_first_and_pages(client: httpx.AsyncClient) -> None:
    a = await create_business(client, "search-a")
    b = await create_business(client, "search-b")
    ca = await start_customer(client, "search-a")
    cb = await start_customer(client, "search-b")
    for i in range(3):
        await say(client, ca, f"a croissant note number {i}")
    # (not a complaint: the router would open a ticket for one)
    await say(client, cb, "a croissant note from B")
    await say(client, ca, "/tool create_ticket " + json.dumps(
        {"subject": "Croissant complaint", "body": "stale"}))
    r = await client.post(f"/v1/sessions/{ca['session_id']}/end",
                          headers=bearer(ca["session_token"]))
    assert r.status_code == 200

    found = await find(client, "search-a", a["token"], "croissant")
    hits = found["hits"]
    kinds = {h["kind"] for h in hits}
    assert kinds == {"message", "ticket", "summary"}
    assert all("from B" not in h["text"] for h in hits)
    assert all(h["session_id"] in (ca["session_id"], None) for h in hits)
    times = [h["created_at"] for h in hits]
    assert times == sorted(times, reverse=True)

    # paged: two at a time, no repeats, same set
    seen: list[tuple[str, str]] = []
    cursor = None
    for _ in range(20):
        page = await find(client, "search-a", a["token"], "croissant", limit=2,
                          **({"cursor": cursor} if cursor else {}))
        seen += [(h["kind"], h["id"]) for h in page["hits"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == len(hits)

    only_b = await find(client, "search-b", b["token"], "croissant")
    assert [h["text"] for h in only_b["hits"]] == [  # the echo reply, then the message
        "You said: a croissant note from B", "a croissant note from B"]
    # another owner cannot search A, and an unknown word finds nothing
    r = await client.get("/v1/businesses/search-a/search", params={"q": "croissant"},
                         headers=bearer(b["token"]))
    assert_error(r, 404, "unknown_business")
    assert (await find(client, "search-a", a["token"], "baguette"))["hits"] == []
    r = await client.get("/v1/businesses/search-a/search", params={"q": "x", "cursor": "!!"},
                         headers=bearer(a["token"]))
    assert_error(r, 400, "invalid_cursor")
