"""Bad input gets a 4xx with the JSON error shape and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.runtime import Runtime
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope


async def _session_count(rt: Runtime) -> int:
    async with rt.db() as db:
        return len(await sessions_repo.list_sessions(db, scope=Scope.system(), limit=1000))


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"role": "customer", "business": "nope-co"}, 404, "unknown_business"),
        ({"role": "customer", "business": "Bad Slug!"}, 404, "unknown_business"),
        ({"role": "customer"}, 400, "business_required"),
        ({"role": "superuser", "business": "bad-co"}, 422, "validation_error"),
        ({"role": "customer", "business": "bad-co", "channel": "fax"}, 422, "validation_error"),
        (
            {"role": "customer", "business": "bad-co", "config": {"volume": 11}},
            422,
            "validation_error",
        ),
        (
            {"role": "customer", "business": "bad-co", "config": {"speaking_rate": 9}},
            422,
            "validation_error",
        ),
        (
            {"role": "customer", "business": "bad-co", "agent_id": "not-an-agent"},
            404,
            "unknown_agent",
        ),
        (
            {"role": "customer", "business": "bad-co", "customer": {"email": "nope"}},
            422,
            "validation_error",
        ),
        (
            {"role": "customer", "business": "bad-co", "customer": {"name": "x" * 201}},
            422,
            "validation_error",
        ),
    ],
)
async def test_bad_session_starts(
    client: httpx.AsyncClient, runtime: Runtime, body: dict[str, Any], status: int, code: str
) -> None:
    await create_business(client, "bad-co")
    r = await client.post("/v1/sessions", json=body)
    assert_error(r, status, code)
    assert await _session_count(runtime) == 0


async def test_foreign_agent_id_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await create_business(client, "agent-a")
    await create_business(client, "agent-b")
    from voxa.storage.repos import businesses as businesses_repo

    async with runtime.db() as db:
        b = await businesses_repo.get_by_slug(db, "agent-b")
        assert b is not None
        agent_b = await businesses_repo.default_agent(db, business_id=b.id)
    assert agent_b is not None
    r = await client.post(
        "/v1/sessions", json={"role": "customer", "business": "agent-a", "agent_id": agent_b.id}
    )
    assert_error(r, 404, "unknown_agent")


@pytest.mark.parametrize(
    "sid",
    [
        "123",
        "abc-def",
        "1" * 13 + "-not-a-uuid",
        "1" * 13 + "-00000000-0000-1000-8000-000000000000",
    ],
)
async def test_malformed_session_ids(client: httpx.AsyncClient, sid: str) -> None:
    await create_business(client, "ids-co")
    s = await start_customer(client, "ids-co")
    r = await client.get(f"/v1/sessions/{sid}", headers=bearer(s["session_token"]))
    assert_error(r, 400, "invalid_session_id")


async def test_non_json_and_oversize_bodies(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await create_business(client, "size-co")
    r = await client.post(
        "/v1/sessions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_error(r, 422, "validation_error")
    huge = {"role": "customer", "business": "size-co", "customer": {"name": "x" * 100_000}}
    r = await client.post("/v1/sessions", json=huge)
    assert_error(r, 413, "payload_too_large")

    async def chunks() -> Any:
        for _ in range(100):
            yield b" " * 1024

    r = await client.post(
        "/v1/sessions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(r, 413, "payload_too_large")
    assert await _session_count(runtime) == 0


async def test_bad_authorization_headers(client: httpx.AsyncClient) -> None:
    await create_business(client, "hdr-co")
    s = await start_customer(client, "hdr-co")
    for header in ["Basic abc", "Bearer", "Bearer    ", "token"]:
        r = await client.get(f"/v1/sessions/{s['session_id']}", headers={"Authorization": header})
        assert_error(r, 401)


async def test_unknown_routes_and_methods_use_error_shape(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(await client.delete("/v1/voices"), 405, "method_not_allowed")


async def test_pagination_bounds(client: httpx.AsyncClient) -> None:
    await create_business(client, "page-co")
    s = await start_customer(client, "page-co")
    for q in ["limit=0", "limit=1000", "before=-1", "limit=abc"]:
        r = await client.get(
            f"/v1/sessions/{s['session_id']}/messages?{q}", headers=bearer(s["session_token"])
        )
        assert_error(r, 422, "validation_error")
