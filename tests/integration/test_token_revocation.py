"""Logout, log out everywhere and password changes revoke account tokens
(bearer and cookie), at once and on every process sharing the store."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
import jwt

from tests.conftest import NewClient
from tests.helpers import (
    PASSWORD,
    SAME_ORIGIN,
    assert_error,
    bearer,
    cookie_login,
    create_business,
    create_user,
)
from voxa.agent.scripted_llm import ScriptedLLM
from voxa.api.app import create_app
from voxa.auth.principal import PrincipalKind
from voxa.kv import create_store
from voxa.runtime import Runtime, open_runtime
from voxa.storage.models import Profile

BASE = "http://voxa.test"


async def login(c: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    r = await c.post("/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


async def me_status(c: httpx.AsyncClient, token: str | None = None) -> int:
    return (await c.get("/v1/me", headers=bearer(token) if token else None)).status_code


async def test_logout_revokes_only_that_token(new_client: NewClient) -> None:
    api = await new_client()
    await create_business(api, "out-co")
    email = "owner@out-co.example.com"
    first, second = await login(api, email), await login(api, email)
    laptop, phone = await new_client(), await new_client()
    laptop_headers = await cookie_login(laptop, email)
    await cookie_login(phone, email)

    r = await laptop.post("/v1/auth/logout", headers=laptop_headers)
    assert r.status_code == 204
    cleared = r.headers.get_list("set-cookie")
    assert len(cleared) == 2 and all("max-age=0" in c.lower() for c in cleared)
    assert await me_status(laptop) == 401
    assert await me_status(phone) == 200

    r = await api.post("/v1/auth/logout", headers=bearer(first))
    assert r.status_code == 204
    assert_error(await api.get("/v1/me", headers=bearer(first)), 401, "token_revoked")
    assert_error(await api.post("/v1/auth/logout", headers=bearer(first)), 401, "token_revoked")
    assert await me_status(api, second) == 200
    assert await me_status(phone) == 200
    r = await api.post("/v1/sessions", json={"role": "owner"}, headers=bearer(first))
    assert_error(r, 401, "token_revoked")


async def test_logged_out_cookie_is_refused_when_replayed(new_client: NewClient) -> None:
    api = await new_client()
    await create_business(api, "replay-co")
    page = await new_client()
    headers = await cookie_login(page, "owner@replay-co.example.com")
    stolen = page.cookies["voxa_session"]
    assert (await page.post("/v1/auth/logout", headers=headers)).status_code == 204
    thief = await new_client()
    thief.cookies.set("voxa_session", stolen)
    assert_error(await thief.get("/v1/me"), 401, "token_revoked")
    # nor does the same string work as a bearer token
    assert_error(await thief.get("/v1/me", headers=bearer(stolen)), 401, "token_revoked")


async def test_logout_everywhere_revokes_all_tokens(new_client: NewClient) -> None:
    api = await new_client()
    await create_business(api, "all-co")
    await create_user(api, "bystander@example.com")
    email = "owner@all-co.example.com"
    tokens = [await login(api, email) for _ in range(3)]
    bystander = await login(api, "bystander@example.com")
    page = await new_client()
    headers = await cookie_login(page, email)
    kept = page.cookies["voxa_session"]
    assert all([await me_status(api, t) == 200 for t in tokens])

    r = await page.post("/v1/auth/logout-all", headers=headers)
    assert r.status_code == 204
    for t in tokens:
        assert_error(await api.get("/v1/me", headers=bearer(t)), 401, "token_revoked")
    assert await me_status(page) == 401  # the response cleared the cookie
    page.cookies.set("voxa_session", kept)  # and a kept copy is dead too
    assert_error(await page.get("/v1/me"), 401, "token_revoked")
    assert await me_status(api, bystander) == 200  # other accounts are untouched
    fresh = await login(api, email)
    assert await me_status(api, fresh) == 200
    r = await api.post("/v1/auth/logout-all", headers=bearer(fresh))
    assert r.status_code == 204
    assert await me_status(api, fresh) == 401


async def test_password_change_revokes_old_tokens(new_client: NewClient, runtime: Runtime) -> None:
    api = await new_client()
    await create_business(api, "pw-co")
    email = "owner@pw-co.example.com"
    old_bearer = await login(api, email)
    other_browser = await new_client()
    await cookie_login(other_browser, email)
    page = await new_client()
    headers = await cookie_login(page, email)
    old_cookie = page.cookies["voxa_session"]
    async with runtime.db() as db:
        profile = await db.get(Profile, (await api.get("/v1/me", headers=bearer(old_bearer))
                                          ).json()["user_id"])
        assert profile is not None
        old_hash = profile.password_hash

    wrong = {"current_password": "not my password", "new_password": "a brand new secret"}
    r = await page.post("/v1/auth/password", json=wrong, headers=headers)
    assert_error(r, 403, "wrong_password")
    async with runtime.db() as db:
        profile = await db.get(Profile, profile.id)
        assert profile is not None and profile.password_hash == old_hash
    assert await me_status(api, old_bearer) == 200 and await me_status(other_browser) == 200
    assert_error(await page.post("/v1/auth/password", json={**wrong, "new_password": "short"},
                                 headers=headers), 422, "validation_error")

    change = {"current_password": PASSWORD, "new_password": "a brand new secret"}
    r = await page.post("/v1/auth/password", json=change, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["token"] is None  # the caller used the cookie: a fresh cookie, no token
    assert page.cookies["voxa_session"] != old_cookie
    assert await me_status(page) == 200
    new_headers = {**SAME_ORIGIN, "X-CSRF-Token": page.cookies["voxa_csrf"]}
    assert new_headers != headers
    r = await page.post("/v1/sessions", json={"role": "owner"}, headers=new_headers)
    assert r.status_code == 201
    assert_error(await api.get("/v1/me", headers=bearer(old_bearer)), 401, "token_revoked")
    assert_error(await api.get("/v1/me", headers=bearer(old_cookie)), 401, "token_revoked")
    assert await me_status(other_browser) == 401
    r = await api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert_error(r, 401, "invalid_credentials")

    # by bearer: the fresh token comes in the body
    token = await login(api, email, "a brand new secret")
    r = await api.post("/v1/auth/password", headers=bearer(token), json={
        "current_password": "a brand new secret", "new_password": "yet another secret"})
    assert r.status_code == 200 and "set-cookie" not in r.headers
    assert await me_status(api, r.json()["token"]) == 200
    assert await me_status(api, token) == 401
    assert await me_status(page) == 401


async def test_expired_and_legacy_tokens_refused(new_client: NewClient, runtime: Runtime) -> None:
    api = await new_client()
    owner = await create_business(api, "exp-co")
    expired = runtime.signer.account_token(
        user_id=owner["user_id"], kind=PrincipalKind.owner,
        business_id=owner["business"]["id"], version=0, ttl=timedelta(seconds=-5),
    ).value
    assert_error(await api.get("/v1/me", headers=bearer(expired)), 401, "token_expired")
    page = await new_client()
    page.cookies.set("voxa_session", expired)
    assert_error(await page.get("/v1/me"), 401, "token_expired")
    # a signed token of the old shape (no jti, no version) cannot be revoked: refused
    claims: dict[str, Any] = jwt.decode(owner["token"], options={"verify_signature": False})
    legacy = {k: v for k, v in claims.items() if k not in ("jti", "ver")}
    legacy_token = jwt.encode(legacy, runtime.settings.signing_key(), algorithm="HS256")
    assert_error(await api.get("/v1/me", headers=bearer(legacy_token)), 401, "invalid_token")
    # a token of a version the account never had
    future = runtime.signer.account_token(
        user_id=owner["user_id"], kind=PrincipalKind.owner,
        business_id=owner["business"]["id"], version=7, ttl=timedelta(minutes=5),
    ).value
    assert_error(await api.get("/v1/me", headers=bearer(future)), 401, "token_revoked")


async def test_me_needs_an_account(new_client: NewClient) -> None:
    api = await new_client()
    await create_business(api, "me-co")
    r = await api.post("/v1/sessions", json={"role": "customer", "business": "me-co"})
    assert_error(await api.get("/v1/me", headers=bearer(r.json()["session_token"])), 403,
                 "not_an_account")
    assert_error(await api.get("/v1/me"), 401, "unauthenticated")
    assert_error(await api.post("/v1/auth/logout"), 401, "unauthenticated")


async def test_revocation_holds_at_once_on_another_process(
    runtime: Runtime, backend: dict[str, str | None], model: ScriptedLLM
) -> None:
    """Two API processes sharing the database and the store: one revokes, the
    other (which had just accepted the token, so cached it) refuses it at once."""
    settings = runtime.settings
    prefix = f"x{uuid.uuid4().hex[:8]}:"
    async with AsyncExitStack() as stack:
        apps = []
        for _ in range(2):
            # memory is per process; the SQL store is what processes on one
            # machine share without Redis
            store = create_store(settings.redis_url, prefix=prefix, kind="sql",
                                 database_url=settings.effective_database_url)
            rt = await open_runtime(settings, run_migrations=False, store=store)
            stack.push_async_callback(rt.aclose)
            c = httpx.AsyncClient(transport=httpx.ASGITransport(
                app=create_app(settings, runtime=rt, model=model)), base_url=BASE)
            apps.append(await stack.enter_async_context(c))
        a, b = apps
        await create_business(a, "multi-co")
        email = "owner@multi-co.example.com"
        one, everything = await login(a, email), await login(a, email)
        assert await me_status(b, one) == 200 and await me_status(b, everything) == 200
        assert (await a.post("/v1/auth/logout", headers=bearer(one))).status_code == 204
        assert_error(await b.get("/v1/me", headers=bearer(one)), 401, "token_revoked")
        assert await me_status(b, everything) == 200
        assert (await a.post("/v1/auth/logout-all", headers=bearer(everything))).status_code == 204
        assert_error(await b.get("/v1/me", headers=bearer(everything)), 401, "token_revoked")
