"""The owner's ``waiting_customers`` tool: the business's customers who asked
for a person, and no other business's."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import create_business, start_customer, start_with_token
from tests.integration.test_tools import call
from voxa.agent.scripted_llm import ScriptedLLM, command_script


@pytest.fixture
def model() -> ScriptedLLM:
    return ScriptedLLM(command_script)  # "/tool NAME {json}" calls the tool


async def test_owner_sees_who_waits_for_a_person(client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "wait-co")
    await create_business(client, "other-co")
    o = await start_with_token(client, owner["token"], "owner")
    assert "Nobody is waiting" in await call(client, o, "waiting_customers",
                                             token=owner["token"])
    c = await start_customer(client, "wait-co", "Wendy")
    stranger = await start_customer(client, "other-co", "Oscar")
    await call(client, c, "request_human", reason="refund for a cake")
    await call(client, stranger, "request_human", reason="elsewhere")
    out = await call(client, o, "waiting_customers", token=owner["token"])
    assert "1 waiting" in out and c["session_id"] in out and "refund for a cake" in out
    assert stranger["session_id"] not in out and "elsewhere" not in out



async def test_a_customer_cannot_call_it(client: httpx.AsyncClient) -> None:
    await create_business(client, "wait-co")
    c = await start_customer(client, "wait-co")
    await call(client, c, "request_human")
    assert "Unknown function" in await call(client, c, "waiting_customers")
