"""``agents.tools``: an owner enables a subset of the tools by API; the next
turn of every session (already open or new) has exactly those, and the
prompt describes exactly those."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import bearer, create_business, start_customer
from tests.integration.test_tools import call
from voxa.agent.recording_llm import RecordingLLM


@pytest.fixture
def model() -> RecordingLLM:
    return RecordingLLM()


async def test_tools_setting_round_trip_and_refusals(client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "tool-co")
    url, auth = "/v1/businesses/tool-co/agent", bearer(owner["token"])
    got = (await client.get(url, headers=auth)).json()
    assert got["tools"] == []
    names = {t["name"] for t in got["available_tools"]}
    assert {"create_ticket", "remember", "request_human", "business_stats"} <= names
    create = next(t for t in got["available_tools"] if t["name"] == "create_ticket")
    assert create["roles"] == ["customer"] and create["description"]
    r = await client.patch(url, json={"tools": ["remember", "no_such_tool"]}, headers=auth)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_tool", r.text
    assert (await client.get(url, headers=auth)).json()["tools"] == []  # nothing changed
    r = await client.patch(url, json={"tools": ["recall", "remember", "recall"]}, headers=auth)
    assert r.status_code == 200 and r.json()["tools"] == ["recall", "remember"]
    r = await client.patch(url, json={"tools": ["x" * 65]}, headers=auth)
    assert r.status_code == 422
    r = await client.patch(url, json={"tools": []}, headers=auth)
    assert r.json()["tools"] == []


async def test_disabled_tool_is_gone_from_the_next_turn(client: httpx.AsyncClient,
                                                        model: RecordingLLM) -> None:
    owner = await create_business(client, "tool-co")
    c = await start_customer(client, "tool-co", "Tia")
    assert (await call(client, c, "create_ticket", subject="a", body="b")).startswith(
        "TOOL: Ticket")
    r = await client.patch("/v1/businesses/tool-co/agent", headers=bearer(owner["token"]),
                           json={"tools": ["recall", "remember", "request_human"]})
    assert r.status_code == 200
    # the open session's next turn: the tool is gone, and its prompt no longer names it
    out = await call(client, c, "create_ticket", subject="a", body="b")
    assert "Unknown function" in out
    last = model.prompts[-1]
    assert "request_human" in last.system and "create_ticket" not in last.system
    assert "ticket_status" not in last.system
    assert "Remembered k = v" in await call(client, c, "remember", category="FACT", key="k",
                                            value="v")
