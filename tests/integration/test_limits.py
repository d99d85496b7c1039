"""Each limit: the request past it gets 429 (or 503) with Retry-After and the
JSON error shape, and nothing was written. Both backends (memory limits on
sqlite, Redis limits on PostgreSQL)."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import make_settings
from tests.helpers import assert_error, bearer, create_business, create_user, start_customer
from voxa.agent.scripted_llm import ScriptedLLM, command_script
from voxa.api.app import create_app
from voxa.kv import create_store
from voxa.runtime import Runtime, open_runtime
from voxa.storage.models import AgentMessage, AgentSession, Memory, Profile, Ticket
from voxa.storage.scope import Scope
from voxa.storage.tenancy import bind_db_scope, reset_db_scope

OPERATOR = "operator-token-for-limits-tests-0123456789"
TIGHT = {
    "limit_login_per_account": "3/minute;5/hour",
    "limit_login_per_address": "6/minute",
    "limit_signup_per_address": "4/hour",
    "limit_session_starts_per_address": "4/minute",
    "limit_turns_per_session": "2/minute",
    "limit_tickets_per_user": "1/hour",
    "operator_token": OPERATOR,
    "trusted_proxies": ["127.0.0.0/8"],
}


@pytest.fixture
async def limited(backend: dict[str, str | None], tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = make_settings(tmp_path, database_url=backend["database_url"],
                             redis_url=backend["redis_url"], **TIGHT)
    store = create_store(settings.redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:")
    rt = await open_runtime(settings, run_migrations=backend["database_url"] is None, store=store)
    # The test's own reads are the operator's (row-level security on PostgreSQL).
    token = bind_db_scope(Scope.system())
    try:
        yield rt
    finally:
        reset_db_scope(token)
        await rt.aclose()


@pytest.fixture
async def api(limited: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(limited.settings, runtime=limited, model=ScriptedLLM(command_script))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://voxa.test") as c:
        yield c


def from_address(ip: str) -> dict[str, str]:
    """The test client's peer (127.0.0.1) is a trusted proxy; this is the client."""
    return {"X-Forwarded-For": ip}


def assert_limited(r: httpx.Response, status: int = 429, code: str = "rate_limited") -> None:
    assert_error(r, status, code)
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["retry_after"] == int(r.headers["Retry-After"])


def refusals(rt: Runtime, limit: str) -> float | None:
    return rt.metrics.registry.get_sample_value("voxa_limited_total", {"limit": limit})


async def count(rt: Runtime, model: Any) -> int:
    async with rt.db() as db:
        return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def login(api: httpx.AsyncClient, email: str, password: str, ip: str) -> httpx.Response:
    return await api.post("/v1/auth/login", json={"email": email, "password": password},
                          headers=from_address(ip))


async def test_login_locks_the_account_and_unknown_emails_look_the_same(
        api: httpx.AsyncClient, limited: Runtime) -> None:
    owner = "owner@lock.example.com"
    await create_business(api, "lock", owner_email=owner)
    answers = {}
    for email in (owner, "nobody@lock.example.com"):
        for i in range(3):
            r = await login(api, email, "wrong password!", f"203.0.113.{i + 1}")
            assert_error(r, 401, "invalid_credentials")
            answers.setdefault(email, r.json())
        # Locked: even the right password is refused, before it is checked.
        r = await login(api, email, "correct horse battery", "203.0.113.9")
        assert_limited(r)
        answers[email + " locked"] = r.json()["error"]["message"]
    assert answers[owner] == answers["nobody@lock.example.com"]
    assert answers[owner + " locked"] == answers["nobody@lock.example.com locked"]
    assert refusals(limited, "login_per_account") == 2


async def test_unknown_email_and_wrong_password_take_about_as_long(
        api: httpx.AsyncClient) -> None:
    owner = "owner@timing.example.com"
    await create_business(api, "timing", owner_email=owner)

    async def timed(email: str, ip: str) -> float:
        t0 = time.perf_counter()
        assert_error(await login(api, email, "wrong password!", ip), 401, "invalid_credentials")
        return time.perf_counter() - t0

    known = [await timed(owner, f"203.0.113.{20 + i}") for i in range(3)]
    unknown = [await timed(f"ghost{i}@timing.example.com", f"203.0.113.{30 + i}")
               for i in range(3)]
    # Both verify a password hash (a dummy one for unknown e-mails): tens of ms,
    # not the sub-millisecond of a skipped check.
    k, u = statistics.median(known), statistics.median(unknown)
    assert u > k / 3 and k > u / 3, (known, unknown)


async def test_a_successful_login_clears_the_failures(api: httpx.AsyncClient) -> None:
    owner = "owner@clear.example.com"
    await create_business(api, "clear", owner_email=owner)
    for _round in range(2):
        for _ in range(2):
            assert_error(await login(api, owner, "wrong password!", "203.0.113.5"), 401)
        assert (await login(api, owner, "correct horse battery", "203.0.113.5")).status_code == 200


async def test_login_per_address_counts_the_forwarded_client(api: httpx.AsyncClient) -> None:
    for i in range(6):
        assert_error(await login(api, f"u{i}@addr.example.com", "wrong pw!", "198.51.100.4"), 401)
    assert_limited(await login(api, "u9@addr.example.com", "wrong pw!", "198.51.100.4"))
    # Another client behind the same proxy keeps its own budget.
    assert_error(await login(api, "u9@addr.example.com", "wrong pw!", "198.51.100.5"), 401)


async def test_signup_per_address(api: httpx.AsyncClient, limited: Runtime) -> None:
    await create_business(api, "signup-a")
    for i in range(3):
        await create_user(api, f"s{i}@signup.example.com")
    before = await count(limited, Profile)
    r = await api.post("/v1/users", json={"email": "s9@signup.example.com", "name": "S",
                                          "password": "correct horse battery"})
    assert_limited(r)
    r = await api.post("/v1/businesses", json={
        "name": "B", "slug": "signup-b", "owner": {
            "email": "o@signup-b.example.com", "name": "O", "password": "correct horse battery"}})
    assert_limited(r)
    assert await count(limited, Profile) == before


async def test_session_starts_per_address(api: httpx.AsyncClient, limited: Runtime) -> None:
    await create_business(api, "starts")
    for _ in range(4):
        await start_customer(api, "starts")
    rows, profiles = await count(limited, AgentSession), await count(limited, Profile)
    r = await api.post("/v1/sessions", json={"role": "customer", "business": "starts"})
    assert_limited(r)
    assert (await count(limited, AgentSession), await count(limited, Profile)) == (rows, profiles)
    other = await api.post("/v1/sessions", json={"role": "customer", "business": "starts"},
                           headers=from_address("192.0.2.77"))
    assert other.status_code == 201, other.text


async def operator_patch(api: httpx.AsyncClient, slug: str, limits: dict[str, Any]
                         ) -> httpx.Response:
    return await api.patch(f"/v1/operator/businesses/{slug}/limits", json={"limits": limits},
                           headers=bearer(OPERATOR))


async def test_operator_overrides_are_validated_and_operator_only(
        api: httpx.AsyncClient) -> None:
    owner = await create_business(api, "ovr")
    for bad in ({"login_per_account": "9/minute"}, {"nope": 1},
                {"turns_per_session": "lots"}, {"active_sessions_per_business": 0},
                {"active_sessions_per_business": "5"}, {"turns_per_session": "0/minute"}):
        assert_error(await operator_patch(api, "ovr", bad), 422, "validation_error")
    r = await api.patch("/v1/operator/businesses/ovr/limits", headers=bearer(owner["token"]),
                        json={"limits": {"active_sessions_per_business": 1000}})
    assert_error(r, 403, "not_operator")
    r = await operator_patch(api, "ovr", {"turns_per_session": "5/minute"})
    assert r.status_code == 200, r.text
    assert r.json()["overrides"] == {"turns_per_session": "5/minute"}
    r = await operator_patch(api, "ovr", {"turns_per_session": None})
    assert r.json()["overrides"] == {}
    assert r.json()["effective"]["turns_per_session"] == "2/minute"


async def test_active_and_voice_sessions_per_business(api: httpx.AsyncClient,
                                                      limited: Runtime) -> None:
    await create_business(api, "quota")
    r = await operator_patch(api, "quota", {"active_sessions_per_business": 2,
                                             "voice_sessions_per_business": 1,
                                             "session_starts_per_address": "100/minute"})
    assert r.status_code == 200, r.text
    voice = await start_customer(api, "quota", channel="voice")
    r = await api.post("/v1/sessions", json={"role": "customer", "business": "quota",
                                             "channel": "voice"})
    assert_limited(r, code="too_many_voice_sessions")
    text = await start_customer(api, "quota")
    rows = await count(limited, AgentSession)
    r = await api.post("/v1/sessions", json={"role": "customer", "business": "quota"})
    assert_limited(r, code="too_many_active_sessions")
    assert await count(limited, AgentSession) == rows
    r = await api.post(f"/v1/sessions/{text['session_id']}/end",
                       headers=bearer(text["session_token"]))
    assert r.status_code == 200, r.text
    await start_customer(api, "quota")
    assert voice["session_id"]


async def test_session_starts_per_business(api: httpx.AsyncClient) -> None:
    await create_business(api, "busy-biz")
    await operator_patch(api, "busy-biz", {"session_starts_per_business": "2/minute"})
    for i in range(2):
        r = await api.post("/v1/sessions", json={"role": "customer", "business": "busy-biz"},
                           headers=from_address(f"192.0.2.{i + 1}"))
        assert r.status_code == 201, r.text
    r = await api.post("/v1/sessions", json={"role": "customer", "business": "busy-biz"},
                       headers=from_address("192.0.2.50"))
    assert_limited(r)


async def test_turns_per_session_http_and_stream(api: httpx.AsyncClient,
                                                 limited: Runtime) -> None:
    await create_business(api, "talk")
    s = await start_customer(api, "talk")
    url, auth = f"/v1/sessions/{s['session_id']}/messages", bearer(s["session_token"])
    for i in range(2):
        r = await api.post(url, json={"text": f"hello {i}"}, headers=auth)
        assert r.status_code == 200, r.text
    before = await count(limited, AgentMessage)
    assert_limited(await api.post(url, json={"text": "one more"}, headers=auth))
    assert_limited(await api.post(url + "/stream", json={"text": "one more"}, headers=auth))
    assert await count(limited, AgentMessage) == before
    assert refusals(limited, "turns_per_session") == 2


async def test_ticket_tool_refuses_past_the_quota(api: httpx.AsyncClient,
                                                  limited: Runtime) -> None:
    await create_business(api, "tix")
    s = await start_customer(api, "tix")
    url, auth = f"/v1/sessions/{s['session_id']}/messages", bearer(s["session_token"])
    ask = '/tool create_ticket {"subject": "Broken", "body": "It broke"}'
    r = await api.post(url, json={"text": ask}, headers=auth)
    assert "opened" in r.json()["reply"]["content"], r.text
    r = await api.post(url, json={"text": ask}, headers=auth)
    assert "Refused" in r.json()["reply"]["content"] and "nothing was saved" in r.text
    assert await count(limited, Ticket) == 1


async def test_memory_tool_refuses_past_the_quota(api: httpx.AsyncClient,
                                                  limited: Runtime) -> None:
    await create_business(api, "mem")
    await operator_patch(api, "mem", {"memories_per_user": "1/hour",
                                      "turns_per_session": "10/minute"})
    s = await start_customer(api, "mem")
    url, auth = f"/v1/sessions/{s['session_id']}/messages", bearer(s["session_token"])
    for value, expect in (("blue", "Remembered"), ("red", "Refused")):
        ask = ('/tool remember {"category": "PREFERENCE", "key": "colour", "value": "'
               + value + '"}')
        r = await api.post(url, json={"text": ask}, headers=auth)
        assert expect in r.json()["reply"]["content"], r.text
    async with limited.db() as db:
        values = list((await db.execute(select(Memory.value))).scalars())
    assert values == ["blue"]
