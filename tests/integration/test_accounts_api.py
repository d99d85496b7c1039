from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import make_settings
from tests.helpers import assert_error, bearer, create_business, create_user
from voxa.api.app import create_app
from voxa.runtime import Runtime, open_runtime
from voxa.storage.models import AgentConfig, Business, Profile


async def _count(rt: Runtime, model: type) -> int:
    async with rt.db() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_business_signup_creates_business_agent_owner(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    body = await create_business(client, "acme-co", owner_email="Olga@Example.com")
    assert body["kind"] == "owner" and body["business"]["slug"] == "acme-co"
    assert body["email"] == "olga@example.com"
    assert "password" not in str(body) and "hash" not in str(body)
    async with runtime.db() as db:
        profile = await db.get(Profile, body["user_id"])
        assert profile is not None and profile.password_hash.startswith("$argon2id$")
        agents = (
            (
                await db.execute(
                    select(AgentConfig).where(AgentConfig.business_id == body["business"]["id"])
                )
            )
            .scalars()
            .all()
        )
    assert len(agents) == 1 and agents[0].is_default


async def test_login_returns_token_and_kind(client: httpx.AsyncClient) -> None:
    await create_business(client, "login-co", owner_email="own@example.com")
    await create_user(client, "gen@example.com")
    r = await client.post(
        "/v1/auth/login", json={"email": "OWN@example.com", "password": "correct horse battery"}
    )
    assert r.status_code == 200 and r.json()["kind"] == "owner"
    assert r.json()["business"]["slug"] == "login-co"
    r = await client.post(
        "/v1/auth/login", json={"email": "gen@example.com", "password": "correct horse battery"}
    )
    assert r.status_code == 200 and r.json()["kind"] == "general"
    token = r.json()["token"]
    r = await client.post("/v1/sessions", json={"role": "general"}, headers=bearer(token))
    assert r.status_code == 201


@pytest.mark.parametrize(
    "email,password",
    [("own@example.com", "wrong password"), ("nobody@example.com", "correct horse battery")],
)
async def test_login_failures_look_the_same(
    client: httpx.AsyncClient, email: str, password: str
) -> None:
    await create_business(client, "fail-co", owner_email="own@example.com")
    r = await client.post("/v1/auth/login", json={"email": email, "password": password})
    assert_error(r, 401, "invalid_credentials")


async def test_duplicates_refused_without_partial_writes(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "dupe-co", owner_email="a@example.com")
    before = [await _count(runtime, m) for m in (Business, AgentConfig, Profile)]
    r = await client.post(
        "/v1/businesses",
        json={
            "name": "X",
            "slug": "dupe-co",
            "owner": {"email": "b@example.com", "name": "B", "password": "password123"},
        },
    )
    assert_error(r, 409, "slug_taken")
    r = await client.post(
        "/v1/businesses",
        json={
            "name": "X",
            "slug": "other-co",
            "owner": {"email": "A@example.com", "name": "B", "password": "password123"},
        },
    )
    assert_error(r, 409, "email_taken")
    r = await client.post(
        "/v1/users", json={"email": "a@example.com", "name": "B", "password": "password123"}
    )
    assert_error(r, 409, "email_taken")
    assert [await _count(runtime, m) for m in (Business, AgentConfig, Profile)] == before


@pytest.mark.parametrize(
    "body,code",
    [
        (
            {
                "name": "X",
                "slug": "general",
                "owner": {"email": "x@example.com", "name": "X", "password": "password123"},
            },
            "invalid_slug",
        ),
        (
            {
                "name": "X",
                "slug": "owner-shop",
                "owner": {"email": "x@example.com", "name": "X", "password": "password123"},
            },
            "invalid_slug",
        ),
        (
            {
                "name": "X",
                "slug": "Bad Slug",
                "owner": {"email": "x@example.com", "name": "X", "password": "password123"},
            },
            "invalid_slug",
        ),
        (
            {
                "name": "X",
                "slug": "good-co",
                "owner": {"email": "not-an-email", "name": "X", "password": "password123"},
            },
            "validation_error",
        ),
        (
            {
                "name": "X",
                "slug": "good-co",
                "owner": {"email": "x@example.com", "name": "X", "password": "short"},
            },
            "validation_error",
        ),
        (
            {
                "name": "X",
                "slug": "good-co",
                "owner": {"email": "x@example.com", "name": "X", "password": "password123"},
                "role": "admin",
            },
            "validation_error",
        ),
    ],
)
async def test_bad_signup_input(
    client: httpx.AsyncClient, runtime: Runtime, body: dict[str, object], code: str
) -> None:
    r = await client.post("/v1/businesses", json=body)
    assert_error(r, (400, 422), code)
    assert await _count(runtime, Business) == 0 and await _count(runtime, Profile) == 0


async def test_closed_signup_needs_operator(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, signup="closed", operator_token="op-" + "x" * 40)
    rt = await open_runtime(settings)
    app = create_app(settings, runtime=rt)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            body = {
                "name": "C",
                "slug": "closed-co",
                "owner": {"email": "c@example.com", "name": "C", "password": "password123"},
            }
            assert_error(await c.post("/v1/businesses", json=body), 403, "signup_closed")
            r = await c.post("/v1/businesses", json=body, headers=bearer("op-" + "x" * 40))
            assert r.status_code == 201
    finally:
        await rt.aclose()
