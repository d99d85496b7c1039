"""An owner takes a text conversation over (issue 14 part 2): the assistant
stays quiet and the customer's messages wait for the person, the owner's
messages reach the transcript as ``human_agent``, the owners' live list drops
the session, and after hand-back the assistant answers again seeing the whole
transcript. Only the business's owners may do it."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.agent.scripted_llm import ScriptedLLM
from voxa.runtime import Runtime


class Recording(ScriptedLLM):
    """The scripted model, remembering every context it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.contexts: list[str] = []

    def chat(self, *, chat_ctx, **kwargs):  # type: ignore[no-untyped-def]
        self.contexts.append(" | ".join(str(getattr(m, "content", "")) for m in chat_ctx.items))
        return super().chat(chat_ctx=chat_ctx, **kwargs)


@pytest.fixture
def model() -> ScriptedLLM:
    return Recording()


async def test_the_owner_takes_over_writes_and_hands_back(
        client: httpx.AsyncClient, runtime: Runtime, model: Recording) -> None:
    owner = await create_business(client, "take-co")
    s = await start_customer(client, "take-co")
    sid, cust = s["session_id"], bearer(s["session_token"])
    own = bearer(owner["token"])
    r = await client.post(f"/v1/sessions/{sid}/handoff", headers=cust)
    assert r.status_code == 202
    assert_error(await client.post(f"/v1/sessions/{sid}/owner-messages", headers=own,
                                   json={"text": "hi"}), 409, "not_taken_over")
    before = len(model.contexts)
    r = await client.post(f"/v1/sessions/{sid}/takeover", headers=own)
    assert r.status_code == 200 and r.json()["state"] == "taken", r.text
    # the customer's message is stored, the assistant does not answer
    r = await client.post(f"/v1/sessions/{sid}/messages", headers=cust,
                          json={"text": "is anyone there?"})
    assert r.status_code == 200, r.text
    assert r.json()["reply"] is None
    assert len(model.contexts) == before
    r = await client.post(f"/v1/sessions/{sid}/owner-messages", headers=own,
                          json={"text": "Hello, this is Anna from the shop."})
    assert r.status_code == 201 and r.json()["role"] == "human_agent", r.text
    r = await client.get(f"/v1/sessions/{sid}/messages", headers=cust)
    said = [(m["role"], m["content"]) for m in r.json()["messages"]]
    assert said[-2:] == [("user", "is anyone there?"),
                         ("human_agent", "Hello, this is Anna from the shop.")]
    r = await client.post(f"/v1/sessions/{sid}/handback", headers=own)
    assert r.status_code == 200 and r.json()["state"] == "returned"
    r = await client.post(f"/v1/sessions/{sid}/messages", headers=cust,
                          json={"text": "thanks, bye"})
    assert r.status_code == 200 and r.json()["reply"] is not None, r.text
    assert "Anna from the shop" in model.contexts[-1]


async def test_only_the_business_owners_may_take_over(client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "mine-co")
    rival = await create_business(client, "rival-co")
    s = await start_customer(client, "mine-co")
    sid = s["session_id"]
    for path, body in (("takeover", None), ("handback", None),
                       ("owner-messages", {"text": "hi"})):
        url = f"/v1/sessions/{sid}/{path}"
        assert_error(await client.post(url, json=body), 401)
        assert_error(await client.post(url, headers=bearer(rival["token"]), json=body), 404)
        assert_error(await client.post(url, headers=bearer(s["session_token"]), json=body), 404)
    r = await client.post(f"/v1/sessions/{sid}/end", headers=bearer(s["session_token"]))
    assert r.status_code == 200
    assert_error(await client.post(f"/v1/sessions/{sid}/takeover",
                                   headers=bearer(owner["token"])), 410)


async def test_taken_and_returned_are_webhook_events_once_each(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    from tests.integration.test_webhooks import allow_private, deliveries, register

    allow_private(runtime)
    owner = await create_business(client, "event-co")
    await register(client, "event-co", owner["token"], "https://hooks.example.com/in",
                   events=["handoff.taken", "handoff.returned"])
    s = await start_customer(client, "event-co")
    sid, own = s["session_id"], bearer(owner["token"])
    for _ in range(2):  # taking it twice is one takeover
        assert (await client.post(f"/v1/sessions/{sid}/takeover", headers=own)).status_code == 200
    for _ in range(2):
        assert (await client.post(f"/v1/sessions/{sid}/handback", headers=own)).status_code == 200
    sent = await deliveries(runtime)
    assert [d.event_type for d in sent] == ["handoff.taken", "handoff.returned"]
    taken, returned = (d.payload["data"] for d in sent)
    assert taken["session_id"] == sid and taken["state"] == "taken" and taken["by"]
    assert taken["transcript_path"] == f"/v1/sessions/{sid}/messages"
    assert returned["state"] == "returned" and returned["returned_at"]


async def test_a_call_is_taken_over_by_joining_it(client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "call-take")
    s = await start_customer(client, "call-take", channel="voice")
    own = bearer(owner["token"])
    for path, body in [("takeover", None), ("handback", None),
                       ("owner-messages", {"text": "hello"})]:
        r = await client.post(f"/v1/sessions/{s['session_id']}/{path}", headers=own, json=body)
        assert_error(r, 400, "join_the_call")
        assert "join-call" in r.json()["error"]["message"]
    r = await client.get(f"/v1/sessions/{s['session_id']}/messages",
                         headers=bearer(s["session_token"]))
    assert all(m["role"] != "human_agent" for m in r.json()["messages"])
