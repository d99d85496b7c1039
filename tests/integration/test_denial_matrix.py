"""The denial matrix, generated from the routes. Every operation of the app's
OpenAPI description is called with no credentials, a garbage, a revoked and
expired (account and session) tokens, and (where it names a session,
business, ticket or memory of tenant A) with every foreign credential: the
other business's owner, general users, other sessions' tokens, customers of
either business. The answer is exact: 401 without valid credentials, 404 for
anything out of reach (ids are never confirmed), 403 only for a valid
credential of the wrong kind (reading is not holding: an owner cannot speak or
change config in a customer's session; a customer or general user is not an
owner, whatever the slug; a tenant is not the operator). A snapshot of every
table and every session's store keys proves nothing changed.

A new route is exercised automatically: its path parameters decide its cases.
An operation the generator cannot place fails with a message saying so."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.helpers import (
    assert_error,
    bearer,
    create_business,
    create_user,
    start_customer,
    start_with_token,
)
from voxa.agent.scripted_llm import ScriptedLLM, command_script
from voxa.auth.principal import PrincipalKind
from voxa.kv.keys import all_session_keys
from voxa.runtime import Runtime
from voxa.storage.models import AgentSession, Base

# Operations anyone may call: nothing to deny. A public route must be listed
# here, or the matrix expects 401 without credentials and fails.
PUBLIC = {
    ("POST", "/v1/businesses"), ("POST", "/v1/users"), ("POST", "/v1/auth/login"),
    ("GET", "/v1/voices"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
    ("GET", "/v1/businesses/{slug}/public"),
    # customers start sessions without credentials; role forgery (owner and
    # general sessions) is test_denial_matrix.py::test_role_forgery_refused.
    ("POST", "/v1/sessions"),
}
# README: "Reading is not holding: an owner can read and end a customer's
# session but not send messages or change its config (403)."
HOLDER_ONLY = {
    ("POST", "/v1/sessions/{session_id}/messages"),
    ("POST", "/v1/sessions/{session_id}/messages/stream"),
    ("PATCH", "/v1/sessions/{session_id}/config"),
    ("POST", "/v1/sessions/{session_id}/resume"),
}
OPERATOR_PREFIX = "/v1/operator/"
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/sessions/{session_id}/messages"): {"text": "hello"},
    ("POST", "/v1/sessions/{session_id}/messages/stream"): {"text": "hello"},
    ("PATCH", "/v1/sessions/{session_id}/config"): {"voice": "craig"},
    ("PATCH", "/v1/businesses/{slug}/settings"): {"allowed_origins": ["https://evil.example"]},
    ("PUT", "/v1/businesses/{slug}/hours"): {"hours": None},
    ("POST", "/v1/sessions/{session_id}/owner-messages"): {"text": "hello"},
    ("PATCH", "/v1/businesses/{slug}/tickets/{ticket_id}"): {"status": "closed"},
    ("PATCH", "/v1/businesses/{slug}/agent"): {"greeting": "pwned"},
    ("POST", "/v1/auth/password"): {"current_password": "correct horse battery",
                                     "new_password": "another horse battery"},
}
KNOWN_PARAMS = {"session_id", "slug", "ticket_id", "id", "message_id"}


@dataclass(frozen=True)
class Case:
    op: str
    caller: str
    method: str
    url: str
    body: dict[str, Any] | None
    expect: int
    code: str | None = None


@pytest.fixture
def model() -> ScriptedLLM:
    return ScriptedLLM(command_script)


async def _snapshot(rt: Runtime) -> list[Any]:
    """Every row of every table, and every session's store keys."""
    out: list[Any] = []
    async with rt.db() as db:
        for table in Base.metadata.sorted_tables:
            rows = (await db.execute(select(table))).all()
            out.append((table.name, sorted(repr(tuple(r)) for r in rows)))
        sids = (await db.execute(select(AgentSession.session_id))).scalars().all()
    for sid in sorted(sids):
        keys = all_session_keys(sid)
        out.append((sid, [await rt.store.get(k) for k in keys]))
    return out


@pytest.fixture
async def world(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, Any]:
    w: dict[str, Any] = {
        "owner_a": await create_business(client, "tenant-a"),
        "owner_b": await create_business(client, "tenant-b"),
        "gen": await create_user(client, "g1@example.com"),
        "gen2": await create_user(client, "g2@example.com"),
        "revoked": await create_user(client, "gone@example.com"),
    }
    r = await client.post("/v1/auth/logout", headers=bearer(w["revoked"]["token"]))
    assert r.status_code == 204, r.text
    past = datetime.now(UTC) - timedelta(minutes=5)
    owner = w["owner_a"]
    w["expired_account"] = runtime.signer.account_token(
        user_id=owner["user_id"], kind=PrincipalKind.owner, business_id=owner["business"]["id"],
        version=0, ttl=timedelta(minutes=-5)).value
    w["cust_a"] = await start_customer(client, "tenant-a", "Ann")
    w["expired_session"] = runtime.signer.session_token(
        session_id=w["cust_a"]["session_id"], user_id="expired", role="customer",
        business_id=owner["business"]["id"], expires_at=past)
    w["cust_a2"] = await start_customer(client, "tenant-a", "Abe")
    w["cust_b"] = await start_customer(client, "tenant-b", "Bea")
    w["owner_a_session"] = await start_with_token(client, w["owner_a"]["token"], "owner")
    w["gen_session"] = await start_with_token(client, w["gen"]["token"], "general")
    a = bearer(w["cust_a"]["session_token"])
    url = f"/v1/sessions/{w['cust_a']['session_id']}/messages"
    for text in ("My favourite colour is teal.",
                 '/tool create_ticket {"subject": "leak", "body": "secret"}'):
        assert (await client.post(url, json={"text": text}, headers=a)).status_code == 200
    memories = (await client.get("/v1/me/memories", headers=a)).json()["memories"]
    tickets = (await client.get("/v1/businesses/tenant-a/tickets",
                                headers=bearer(w["owner_a"]["token"]))).json()["tickets"]
    assert memories and tickets
    w["memory_id"], w["ticket_id"] = memories[0]["id"], tickets[0]["id"]
    return w


def _credentials(w: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        "owner_a": bearer(w["owner_a"]["token"]),
        "owner_b": bearer(w["owner_b"]["token"]),
        "general_1": bearer(w["gen"]["token"]),
        "general_2": bearer(w["gen2"]["token"]),
        "customer_a": bearer(w["cust_a"]["session_token"]),
        "customer_a2": bearer(w["cust_a2"]["session_token"]),
        "customer_b": bearer(w["cust_b"]["session_token"]),
    }


# Who holds what in tenant A (everyone else is foreign to it).
SESSION_TARGETS = {"cust_a": {"customer_a"}, "owner_a_session": {"owner_a"},
                   "gen_session": {"general_1"}}
ANONYMOUS = {"none": {}, "garbage": bearer("not-a-token")}


def _anonymous(w: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Credentials that are no credential: none, garbage, revoked, expired."""
    return {**ANONYMOUS, "revoked": bearer(w["revoked"]["token"]),
            "expired_account": bearer(w["expired_account"]),
            "expired_session": bearer(w["expired_session"])}


def generate(spec: dict[str, Any], w: dict[str, Any]) -> tuple[list[Case], list[str]]:
    """Every case of every operation, and the operations no case could be made for."""
    creds = _credentials(w)
    anonymous = _anonymous(w)
    cases: list[Case] = []
    unplaced: list[str] = []
    for path, ops in spec["paths"].items():
        for method_l, op in ops.items():
            method = method_l.upper()
            key = (method, path)
            name = f"{method} {path}"
            if key in PUBLIC:
                continue
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            required = {p["name"] for p in op.get("parameters", [])
                        if p["in"] == "query" and p.get("required")}
            unknown = params - KNOWN_PARAMS
            if unknown and "slug" not in params:
                unplaced.append(f"{name}: no generator for path parameter(s) {sorted(unknown)}")
                continue
            body = BODIES.get(key, {} if "requestBody" in op else None)
            fill = {"slug": "tenant-a", "ticket_id": w["ticket_id"], "message_id": 1,
                    **{p: uuid.uuid4().hex for p in unknown}}
            operator = path.startswith(OPERATOR_PREFIX)

            def add(caller: str, url: str, expect: int, code: str | None = None,
                    _name: str = name, _method: str = method,
                    _body: dict[str, Any] | None = body) -> None:
                cases.append(Case(_name, caller, _method, url, _body, expect, code))

            targets = ([w[t]["session_id"] for t in SESSION_TARGETS]
                       if "session_id" in params else [None])
            for target_label, sid in zip(SESSION_TARGETS, targets, strict=False):
                url = path.format(**fill, session_id=sid)
                if "id" in query:
                    url += f"?id={w['memory_id']}"
                elif required:  # so a refusal is not mistaken for a 422
                    url += "?" + "&".join(f"{q}=1" for q in sorted(required))
                for caller in anonymous:
                    add(caller, url, 401)
                if operator:  # a tenant's valid credential lacks the operator's right
                    for caller in creds:
                        add(caller, url, 403, "not_operator")
                    continue
                if "session_id" in params:
                    holders = SESSION_TARGETS[target_label]
                    for caller in creds:
                        if caller in holders:
                            continue
                        if caller == "owner_a" and target_label == "cust_a":
                            if key in HOLDER_ONLY:
                                add(caller, url, 403, "not_session_holder")
                            continue  # reading and ending are the owner's right
                        add(caller, url, 404)
                elif "slug" in params:
                    # Another owner learns nothing (404); a customer's or general
                    # user's credential is no owner's at all (403 not_owner), the
                    # same answer for a business that does not exist.
                    nowhere = path.format(**{**fill, "slug": "no-such-business"})
                    for caller in creds:
                        if caller == "owner_b":
                            add(caller, url, 404)
                        elif caller != "owner_a":
                            add(caller, url, 403, "not_owner")
                            add(caller, nowhere, 403, "not_owner")
                    if "ticket_id" in params:  # A's ticket through B's own slug
                        add("owner_b", path.format(**{**fill, "slug": "tenant-b"}), 404)
                elif "id" in query:
                    for caller in creds:
                        if caller != "customer_a":
                            add(caller, url, 404)
    return cases, unplaced


async def test_every_operation_denies_foreign_and_missing_credentials(
    client: httpx.AsyncClient, runtime: Runtime, world: dict[str, Any]
) -> None:
    spec = client._transport.app.openapi()  # type: ignore[attr-defined]
    cases, unplaced = generate(spec, world)
    assert not unplaced, "operations the denial matrix cannot place:\n" + "\n".join(unplaced)
    covered = {c.op for c in cases}
    every = {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops}
    public = {f"{m} {p}" for m, p in PUBLIC}
    assert every - public - covered == set(), "operations with no generated case"
    assert public - every == set(), f"PUBLIC names routes that no longer exist: {public - every}"

    creds = {**_credentials(world), **_anonymous(world)}
    before = await _snapshot(runtime)
    wrong: list[str] = []
    for c in cases:
        r = await client.request(c.method, c.url, json=c.body, headers=creds[c.caller])
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        got_code = body.get("error", {}).get("code") if isinstance(body, dict) else None
        if r.status_code != c.expect or (c.code and got_code != c.code) or "error" not in body:
            wrong.append(f"{c.op} as {c.caller}: {r.status_code} {got_code} "
                         f"(expected {c.expect} {c.code or ''})")
    assert not wrong, f"{len(wrong)} of {len(cases)} cases:\n" + "\n".join(wrong)
    assert len(cases) > 200
    assert await _snapshot(runtime) == before


def test_a_new_route_gets_cases_or_a_clear_failure() -> None:
    """The generator places an unknown route by its parameters, and names one it cannot."""
    w = {"ticket_id": "t", "memory_id": "m", "revoked": {"token": "r"},
         "expired_account": "e", "expired_session": "e",
         **{k: {"session_id": k, "token": k, "session_token": k}
            for k in ("owner_a", "owner_b", "gen", "gen2", "cust_a", "cust_a2", "cust_b",
                      "owner_a_session", "gen_session")}}
    spec = {"paths": {
        "/v1/businesses/{slug}/knowledge/{doc_id}": {"get": {"parameters": [
            {"name": "slug", "in": "path"}, {"name": "doc_id", "in": "path"}]}},
        "/v1/webhooks": {"post": {"requestBody": {}}},
        "/v1/things/{thing_id}": {"get": {"parameters": [{"name": "thing_id", "in": "path"}]}},
    }}
    cases, unplaced = generate(spec, w)
    ops = {c.op for c in cases}
    assert ops == {"GET /v1/businesses/{slug}/knowledge/{doc_id}", "POST /v1/webhooks"}
    assert {c.expect for c in cases if c.caller == "owner_b"} == {404}
    assert {c.code for c in cases if c.caller == "general_1"} == {"not_owner"}
    assert {c.expect for c in cases if c.op == "POST /v1/webhooks"} == {401}
    assert unplaced == ["GET /v1/things/{thing_id}: no generator for path parameter(s) "
                        "['thing_id']"]


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
