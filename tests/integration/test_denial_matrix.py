"""Cross-tenant denial matrix: every session and business endpoint, called with
a foreign session token, another business's owner token, a general user's
token and no token, is refused (401/403/404) and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import (
    assert_error,
    bearer,
    create_business,
    create_user,
    start_customer,
    start_with_token,
)
from voxa.kv.keys import all_session_keys
from voxa.runtime import Runtime
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope


async def _snapshot(rt: Runtime) -> list[tuple[Any, ...]]:
    async with rt.db() as db:
        rows = await sessions_repo.list_sessions(db, scope=Scope.system(), limit=1000)
    out = []
    for r in rows:
        out.append(
            (
                r.session_id,
                r.status,
                r.message_count,
                str(r.config),
                r.last_activity_at,
                await rt.store.exists(*all_session_keys(r.session_id)),
                await rt.store.get(all_session_keys(r.session_id)[1]),
            )
        )
    return sorted(out)


SESSION_CALLS = [
    ("GET", "/v1/sessions/{sid}", None),
    ("GET", "/v1/sessions/{sid}/messages", None),
    ("POST", "/v1/sessions/{sid}/resume", None),
    ("POST", "/v1/sessions/{sid}/end", None),
    ("PATCH", "/v1/sessions/{sid}/config", {"voice": "craig"}),
]
BUSINESS_CALLS = [
    ("GET", "/v1/businesses/{slug}/sessions", None),
    ("GET", "/v1/businesses/{slug}/stats", None),
    ("GET", "/v1/businesses/{slug}/settings", None),
    ("PATCH", "/v1/businesses/{slug}/settings", {"allowed_origins": ["https://evil.example"]}),
]


@pytest.fixture
async def world(client: httpx.AsyncClient) -> dict[str, Any]:
    owner_a = await create_business(client, "tenant-a")
    owner_b = await create_business(client, "tenant-b")
    gen = await create_user(client, "g1@example.com")
    gen2 = await create_user(client, "g2@example.com")
    return {
        "owner_a": owner_a,
        "owner_b": owner_b,
        "gen": gen,
        "gen2": gen2,
        "cust_a": await start_customer(client, "tenant-a", "Ann"),
        "cust_a2": await start_customer(client, "tenant-a", "Abe"),
        "cust_b": await start_customer(client, "tenant-b", "Bea"),
        "owner_a_session": await start_with_token(client, owner_a["token"], "owner"),
        "gen_session": await start_with_token(client, gen["token"], "general"),
    }


def _attackers(w: dict[str, Any], target: str) -> dict[str, dict[str, str]]:
    """Every credential that must NOT reach ``target``'s session."""
    creds = {
        "none": {},
        "garbage": bearer("not-a-token"),
        "foreign_session_token": bearer(w["cust_b"]["session_token"]),
        "same_business_other_customer": bearer(w["cust_a2"]["session_token"]),
        "other_business_owner": bearer(w["owner_b"]["token"]),
        "general_user": bearer(w["gen2"]["token"]),
    }
    if target == "gen_session":
        creds["owner_of_a"] = bearer(w["owner_a"]["token"])
        creds["customer_of_a"] = bearer(w["cust_a"]["session_token"])
    if target == "owner_a_session":
        creds["customer_of_a"] = bearer(w["cust_a"]["session_token"])
        creds["general_user_1"] = bearer(w["gen"]["token"])
    return creds


@pytest.mark.parametrize("target", ["cust_a", "owner_a_session", "gen_session"])
async def test_session_endpoints_refuse_foreign_credentials(
    client: httpx.AsyncClient, runtime: Runtime, world: dict[str, Any], target: str
) -> None:
    sid = world[target]["session_id"]
    before = await _snapshot(runtime)
    tried = 0
    for name, headers in _attackers(world, target).items():
        for method, path, body in SESSION_CALLS:
            r = await client.request(method, path.format(sid=sid), json=body, headers=headers)
            assert r.status_code in (401, 403, 404), (name, method, path, r.status_code, r.text)
            assert_error(r, (401, 403, 404))
            tried += 1
    assert tried >= 30
    assert await _snapshot(runtime) == before


async def test_business_endpoints_refuse_non_owners(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    attackers = {
        "none": {},
        "owner_b": bearer(world["owner_b"]["token"]),
        "general": bearer(world["gen"]["token"]),
        "customer_a": bearer(world["cust_a"]["session_token"]),
    }
    for name, headers in attackers.items():
        for method, path, body in BUSINESS_CALLS:
            r = await client.request(
                method, path.format(slug="tenant-a"), json=body, headers=headers
            )
            assert_error(r, (401, 403, 404))
            assert r.status_code != 200, name
    r = await client.get("/v1/businesses/tenant-a/settings",
                         headers=bearer(world["owner_a"]["token"]))
    assert r.json() == {"allowed_origins": []}
    r = await client.get(
        "/v1/businesses/tenant-a/sessions", headers=bearer(world["owner_a"]["token"])
    )
    ids = {s["session_id"] for s in r.json()["sessions"]}
    assert (
        world["cust_b"]["session_id"] not in ids and world["gen_session"]["session_id"] not in ids
    )
    assert world["cust_a"]["session_id"] in ids


async def test_holders_still_reach_their_own(
    client: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    """The matrix would pass vacuously if nobody could read anything."""
    for who, token in [
        ("cust_a", world["cust_a"]["session_token"]),
        ("owner_a_session", world["owner_a"]["token"]),
        ("gen_session", world["gen"]["token"]),
    ]:
        r = await client.get(f"/v1/sessions/{world[who]['session_id']}", headers=bearer(token))
        assert r.status_code == 200, (who, r.text)
    r = await client.get(
        f"/v1/sessions/{world['cust_a']['session_id']}/messages",
        headers=bearer(world["owner_a"]["token"]),
    )
    assert r.status_code == 200


async def test_role_forgery_refused(
    client: httpx.AsyncClient, runtime: Runtime, world: dict[str, Any]
) -> None:
    before = await _snapshot(runtime)
    # A customer (no token) asking to be an owner.
    assert_error(
        await client.post("/v1/sessions", json={"role": "owner", "business": "tenant-a"}), 401
    )
    # A customer's session token is not an owner credential.
    r = await client.post(
        "/v1/sessions",
        json={"role": "owner", "business": "tenant-a"},
        headers=bearer(world["cust_a"]["session_token"]),
    )
    assert_error(r, 403, "role_not_allowed")
    # A general user asking for a business's owner session.
    r = await client.post(
        "/v1/sessions",
        json={"role": "owner", "business": "tenant-a"},
        headers=bearer(world["gen"]["token"]),
    )
    assert_error(r, 403, "role_not_allowed")
    # An owner asking for another business's owner session.
    r = await client.post(
        "/v1/sessions",
        json={"role": "owner", "business": "tenant-a"},
        headers=bearer(world["owner_b"]["token"]),
    )
    assert_error(r, 403, "role_not_allowed")
    # An owner asking for a general session (identity kinds are not interchangeable).
    r = await client.post(
        "/v1/sessions", json={"role": "general"}, headers=bearer(world["owner_a"]["token"])
    )
    assert_error(r, 403, "role_not_allowed")
    # Unknown fields such as user_id cannot smuggle identity in.
    r = await client.post(
        "/v1/sessions",
        json={"role": "customer", "business": "tenant-a", "user_id": world["owner_a"]["user_id"]},
    )
    assert_error(r, 422, "validation_error")
    assert await _snapshot(runtime) == before
