"""Webhooks (issue 14 part 5): signed per Standard Webhooks and verified by a
real receiver on loopback with the library, retried after 500s with back-off,
one webhook-id per delivery across retries and concurrent runners, private
targets refused without the operator switch, other tenants' endpoints 404."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from tests.helpers import assert_error, bearer, create_business, start_customer
from tests.rooms import RecordingRooms
from tests.webhook_receiver import receiver
from voxa.jobs.scheduler import webhook_dispatcher
from voxa.runtime import Runtime, open_runtime
from voxa.storage.models import WebhookDelivery
from voxa.webhooks.sender import backoff_seconds, run_due
from voxa.webhooks.targets import PublicOnlyResolver, UnsafeTarget

EVENTS = ["session.ended", "ticket.created", "ticket.updated", "handoff.requested",
          "handoff.taken", "handoff.returned"]


def allow_private(rt: Runtime, **more: Any) -> None:
    rt.settings = rt.settings.model_copy(update={"webhooks_allow_private": True, **more})


async def register(client: httpx.AsyncClient, slug: str, token: str, url: str,
                   events: list[str] | None = None) -> dict[str, Any]:
    r = await client.post(f"/v1/businesses/{slug}/webhooks", headers=bearer(token),
                          json={"url": url, "events": events or EVENTS})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def end_customer_session(client: httpx.AsyncClient, slug: str) -> str:
    s = await start_customer(client, slug)
    r = await client.post(f"/v1/sessions/{s['session_id']}/end",
                          headers=bearer(s["session_token"]))
    assert r.status_code == 200, r.text
    return str(s["session_id"])


async def deliveries(rt: Runtime) -> list[WebhookDelivery]:
    async with rt.db() as db:
        return list((await db.execute(
            select(WebhookDelivery).order_by(WebhookDelivery.created_at))).scalars())


async def test_a_signed_delivery_is_verified_by_the_receiver(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    allow_private(runtime)
    owner = await create_business(client, "hook-co")
    async with receiver() as rec:
        hook = await register(client, "hook-co", owner["token"], rec.url, ["session.ended"])
        assert hook["secret"].startswith("whsec_")
        listed = (await client.get("/v1/businesses/hook-co/webhooks",
                                   headers=bearer(owner["token"]))).json()["webhooks"]
        assert [h["id"] for h in listed] == [hook["id"]]
        assert "secret" not in listed[0]  # shown once, at creation
        session_id = await end_customer_session(client, "hook-co")
        # the in-process runner of `voxa serve` sends it
        dispatcher = webhook_dispatcher(runtime, interval=0.05)
        dispatcher.start()
        try:
            await rec.wait_for(1)
            async with asyncio.timeout(30):  # the runner records the answer after it
                while (await deliveries(runtime))[0].status != "succeeded":
                    await asyncio.sleep(0.05)
        finally:
            await dispatcher.stop()
    [got] = rec.requests
    payload = Webhook(hook["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "session.ended"
    assert payload["data"]["session_id"] == session_id
    assert payload["data"]["transcript_path"] == f"/v1/sessions/{session_id}/messages"
    with pytest.raises(Exception, match="signature"):  # a wrong secret does not verify
        Webhook("whsec_" + "QUJD" * 8).verify(got.body, got.headers)
    r = await client.get(f"/v1/businesses/hook-co/webhooks/{hook['id']}/deliveries",
                         headers=bearer(owner["token"]))
    [d] = r.json()["deliveries"]
    assert (d["status"], d["attempts"], d["last_status_code"]) == ("succeeded", 1, 200)
    assert d["message_id"] == got.headers["webhook-id"]


async def test_retries_after_500s_with_backoff_and_one_webhook_id(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    allow_private(runtime, webhooks_retry_base_seconds=0.5)
    owner = await create_business(client, "retry-co")
    async with receiver(statuses=[500, 503, 200]) as rec:
        hook = await register(client, "retry-co", owner["token"], rec.url)
        await end_customer_session(client, "retry-co")
        assert await run_due(runtime) == {"pending": 1}
        [d] = await deliveries(runtime)
        assert (d.status, d.attempts, d.last_status_code) == ("pending", 1, 500)
        wait = (d.next_attempt_at - d.updated_at).total_seconds()
        assert 0.45 <= wait <= 0.6, wait
        assert await run_due(runtime) == {}  # not due yet: nothing is sent early
        async with asyncio.timeout(30):
            while len(rec.requests) < 3:
                await run_due(runtime)
                await asyncio.sleep(0.05)
        [d] = await deliveries(runtime)
        assert (d.status, d.attempts, d.last_status_code) == ("succeeded", 3, 200)
    ids = {r.headers["webhook-id"] for r in rec.requests}
    assert ids == {d.message_id}  # the same webhook-id on every attempt
    for got in rec.requests:
        Webhook(hook["secret"]).verify(got.body, got.headers)
    assert [backoff_seconds(n, 30) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_seconds(40, 30) == 6 * 3600


async def test_gives_up_after_max_attempts_and_the_owner_resends(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    allow_private(runtime, webhooks_retry_base_seconds=0.05, webhooks_max_attempts=2)
    owner = await create_business(client, "give-co")
    async with receiver(statuses=[500, 500, 204]) as rec:
        hook = await register(client, "give-co", owner["token"], rec.url)
        await end_customer_session(client, "give-co")
        async with asyncio.timeout(30):
            while (await deliveries(runtime))[0].status != "failed":
                await run_due(runtime)
                await asyncio.sleep(0.05)
        [d] = await deliveries(runtime)
        assert (d.attempts, len(rec.requests)) == (2, 2)
        url = f"/v1/businesses/give-co/webhooks/{hook['id']}/deliveries/{d.id}/resend"
        r = await client.post(url, headers=bearer(owner["token"]))
        assert r.status_code == 202, r.text
        assert (r.json()["status"], r.json()["attempts"]) == ("pending", 0)
        assert_error(await client.post(url, headers=bearer(owner["token"])), 409,
                     "delivery_in_progress")
        assert await run_due(runtime) == {"succeeded": 1}
    assert {r.headers["webhook-id"] for r in rec.requests} == {d.message_id}


async def test_two_concurrent_runners_send_each_delivery_once(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    allow_private(runtime)
    owner = await create_business(client, "twin-co")
    other = await open_runtime(runtime.settings, run_migrations=False, store=runtime.store,
                               rooms=RecordingRooms())
    try:
        async with receiver(delay=0.2) as rec:
            await register(client, "twin-co", owner["token"], rec.url)
            for _ in range(5):
                await end_customer_session(client, "twin-co")
            first, second = await asyncio.gather(run_due(runtime), run_due(other))
            assert first.get("succeeded", 0) + second.get("succeeded", 0) == 5
    finally:
        await other.aclose()
    ids = [r.headers["webhook-id"] for r in rec.requests]
    assert len(ids) == 5 and len(set(ids)) == 5
    assert {d.status for d in await deliveries(runtime)} == {"succeeded"}


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hook", "https://127.0.0.1/hook", "https://localhost/hook",
    "https://api.localhost/x", "https://10.1.2.3/x", "https://192.168.0.1/x",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/x", "https://[::ffff:127.0.0.1]/x",
    "https://0.0.0.0/x", "http://hooks.example.com/x",
])
async def test_private_or_plain_http_targets_are_refused_without_the_switch(
        client: httpx.AsyncClient, url: str) -> None:
    owner = await create_business(client, "safe-co")
    r = await client.post("/v1/businesses/safe-co/webhooks", headers=bearer(owner["token"]),
                          json={"url": url, "events": ["ticket.created"]})
    assert_error(r, 400, "unsafe_webhook_target")
    listed = await client.get("/v1/businesses/safe-co/webhooks", headers=bearer(owner["token"]))
    assert listed.json()["webhooks"] == []


async def test_a_private_target_is_refused_at_send_time_too(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    allow_private(runtime)
    owner = await create_business(client, "late-co")
    async with receiver() as rec:
        await register(client, "late-co", owner["token"], rec.url)
        runtime.settings = runtime.settings.model_copy(update={"webhooks_allow_private": False})
        await end_customer_session(client, "late-co")
        assert await run_due(runtime) == {"pending": 1}
    assert rec.requests == []
    [d] = await deliveries(runtime)
    assert d.last_status_code is None and "https" in (d.last_error or "")
    # a host name is vetted after resolution (DNS rebinding): every address must be public
    with pytest.raises(UnsafeTarget):
        await PublicOnlyResolver().resolve("127.0.0.1", 443)


async def test_other_tenants_webhooks_are_not_found(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    allow_private(runtime)
    a = await create_business(client, "tenant-a")
    b = await create_business(client, "tenant-b")
    async with receiver() as rec:
        hook = await register(client, "tenant-a", a["token"], rec.url)
        await end_customer_session(client, "tenant-b")  # b has no endpoint: nothing for a
        await end_customer_session(client, "tenant-a")
        assert await run_due(runtime) == {"succeeded": 1}
    [d] = await deliveries(runtime)
    base = f"/v1/businesses/tenant-a/webhooks/{hook['id']}"
    for method, url in [("GET", "/v1/businesses/tenant-a/webhooks"),
                        ("GET", f"{base}/deliveries"), ("DELETE", base),
                        ("POST", f"{base}/deliveries/{d.id}/resend")]:
        r = await client.request(method, url, headers=bearer(b["token"]))
        assert_error(r, 404, "unknown_business")
    # b's own routes with a's ids: not found either
    other = f"/v1/businesses/tenant-b/webhooks/{hook['id']}"
    for method, url in [("GET", f"{other}/deliveries"), ("DELETE", other),
                        ("POST", f"{other}/deliveries/{d.id}/resend")]:
        r = await client.request(method, url, headers=bearer(b["token"]))
        assert_error(r, 404)
    r = await client.get("/v1/businesses/tenant-b/webhooks", headers=bearer(b["token"]))
    assert r.json()["webhooks"] == []
    assert json.loads(json.dumps(d.payload))["data"]["session_id"]
    r = await client.delete(base, headers=bearer(a["token"]))
    assert r.status_code == 204
    assert await deliveries(runtime) == []  # deleted with their endpoint


async def test_endpoints_per_business_are_limited(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(
        update={"webhooks_max_endpoints_per_business": 2})
    owner = await create_business(client, "many-co")
    for n in range(2):
        await register(client, "many-co", owner["token"], f"https://hooks{n}.example.com/x")
    r = await client.post("/v1/businesses/many-co/webhooks", headers=bearer(owner["token"]),
                          json={"url": "https://hooks9.example.com/x", "events": EVENTS})
    assert_error(r, 409, "too_many_webhooks")
    r = await client.post("/v1/businesses/many-co/webhooks", headers=bearer(owner["token"]),
                          json={"url": "https://hooks9.example.com/x", "events": ["nope"]})
    assert_error(r, 422)
