"""The pages' cookie session: HttpOnly cookie instead of a token in script,
CSRF protection on every unsafe cookie-authenticated request."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from tests.conftest import NewClient
from tests.helpers import (
    PASSWORD,
    SAME_ORIGIN,
    assert_error,
    bearer,
    cookie_login,
    create_business,
)
from voxa.runtime import Runtime
from voxa.storage.models import AgentSession

BASE = "http://voxa.test"


def set_cookies(r: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name (lower-cased attributes)."""
    out = {}
    for header in r.headers.get_list("set-cookie"):
        out[header.split("=", 1)[0]] = header.lower()
    return out




async def greeting(c: httpx.AsyncClient, slug: str, token: str) -> str | None:
    r = await c.get(f"/v1/businesses/{slug}/agent", headers=bearer(token))
    assert r.status_code == 200
    value = r.json()["greeting"].get("customer")
    return None if value is None else str(value)


async def session_count(rt: Runtime) -> int:
    async with rt.db() as db:
        return int(await db.scalar(select(func.count()).select_from(AgentSession)) or 0)


async def test_cookie_login_then_dashboard_calls(new_client: NewClient) -> None:
    api = await new_client()
    owner = await create_business(api, "cookie-co")
    page = await new_client()
    r = await page.post("/v1/auth/login", json={
        "email": "owner@cookie-co.example.com", "password": PASSWORD, "cookie": True,
    }, headers=SAME_ORIGIN)
    assert r.status_code == 200 and r.json()["token"] is None
    assert r.json()["kind"] == "owner" and r.json()["business"]["slug"] == "cookie-co"
    assert r.headers["cache-control"] == "no-store"
    assert owner["token"] not in r.text
    cookies = set_cookies(r)
    session, csrf = cookies["voxa_session"], cookies["voxa_csrf"]
    for attr in ("path=/", "samesite=strict", "max-age=43200"):  # 12 h by default
        assert attr in session and attr in csrf
    assert "httponly" in session and "httponly" not in csrf
    assert "secure" not in session  # plain http here
    headers = {**SAME_ORIGIN, "X-CSRF-Token": page.cookies["voxa_csrf"]}

    me = await page.get("/v1/me")
    assert me.status_code == 200
    assert me.json() == {"user_id": owner["user_id"], "kind": "owner", "name": "Owner cookie-co",
                         "email": "owner@cookie-co.example.com", "business": owner["business"]}
    for path in ("stats", "sessions", "tickets", "agent"):
        assert (await page.get(f"/v1/businesses/cookie-co/{path}")).status_code == 200
    r = await page.patch("/v1/businesses/cookie-co/agent",
                         json={"greeting": {"customer": "Hello {name}"}}, headers=headers)
    assert r.status_code == 200, r.text
    assert await greeting(api, "cookie-co", owner["token"]) == "Hello {name}"
    r = await page.post("/v1/sessions", json={"role": "owner"}, headers=headers)
    assert r.status_code == 201, r.text
    # the account token is the cookie's alone; another browser has nothing
    assert_error(await (await new_client()).get("/v1/me"), 401, "unauthenticated")


async def test_signup_in_cookie_mode(new_client: NewClient) -> None:
    page = await new_client()
    r = await page.post("/v1/users", json={"email": "gia@example.com", "name": "Gia",
                                           "password": PASSWORD, "cookie": True},
                        headers=SAME_ORIGIN)
    assert r.status_code == 201 and r.json()["token"] is None
    assert (await page.get("/v1/me")).json()["kind"] == "general"
    r = await page.post("/v1/businesses", json={
        "name": "Shop", "slug": "signup-shop", "cookie": True,
        "owner": {"email": "o@signup-shop.example.com", "name": "O", "password": PASSWORD},
    }, headers={**SAME_ORIGIN, "X-CSRF-Token": page.cookies["voxa_csrf"]})
    assert r.status_code == 201 and r.json()["token"] is None
    assert (await page.get("/v1/me")).json()["business"]["slug"] == "signup-shop"


async def test_cookie_requests_without_csrf_proof_are_refused(
    new_client: NewClient, runtime: Runtime
) -> None:
    api = await new_client()
    owner = await create_business(api, "csrf-co")
    other = await new_client()
    await create_business(api, "csrf-other")
    other_headers = await cookie_login(other, "owner@csrf-other.example.com")
    page = await new_client()
    good = await cookie_login(page, "owner@csrf-co.example.com")
    patch = {"greeting": {"customer": "pwned"}}
    refused = [
        {},  # a plain cross-site form or fetch: no token, no origin
        SAME_ORIGIN,  # same origin, but no token
        {**SAME_ORIGIN, "X-CSRF-Token": "forged"},
        {**SAME_ORIGIN, "X-CSRF-Token": other_headers["X-CSRF-Token"]},  # another session's
        {**good, "Origin": "https://evil.example"},  # the token, sent from another origin
        {**good, "Origin": "http://voxa.test.evil.example"},
        {**good, "Origin": "http://voxa.test:8080"},
        {**good, "Origin": "null"},
        {"X-CSRF-Token": good["X-CSRF-Token"]},  # neither Origin nor Referer
        {"X-CSRF-Token": good["X-CSRF-Token"], "Referer": "https://evil.example/x"},
    ]
    for headers in refused:
        r = await page.patch("/v1/businesses/csrf-co/agent", json=patch, headers=headers)
        assert_error(r, 403, "csrf_failed")
        r = await page.post("/v1/sessions", json={"role": "owner"}, headers=headers)
        assert_error(r, 403, "csrf_failed")
        r = await page.post("/v1/auth/logout-all", headers=headers)
        assert_error(r, 403, "csrf_failed")
    assert await greeting(api, "csrf-co", owner["token"]) is None
    assert await session_count(runtime) == 0
    assert (await page.get("/v1/me")).status_code == 200  # logout-all did not happen
    # with the token and the page's own origin (or only a same-origin Referer) it works
    r = await page.patch("/v1/businesses/csrf-co/agent", json=patch, headers=good)
    assert r.status_code == 200
    referer = {"X-CSRF-Token": good["X-CSRF-Token"], "Referer": f"{BASE}/owner"}
    assert (await page.post("/v1/sessions", json={"role": "owner"},
                            headers=referer)).status_code == 201


async def test_cookie_login_from_another_origin_refused(new_client: NewClient) -> None:
    api = await new_client()
    await create_business(api, "xlogin-co")
    page = await new_client()
    body = {"email": "owner@xlogin-co.example.com", "password": PASSWORD, "cookie": True}
    for headers in ({"Origin": "https://evil.example"}, {}):
        r = await page.post("/v1/auth/login", json=body, headers=headers)
        assert_error(r, 403, "csrf_failed")
        assert "set-cookie" not in r.headers
    assert_error(await page.get("/v1/me"), 401)


async def test_bearer_requests_need_no_csrf_token(new_client: NewClient) -> None:
    api = await new_client()
    owner = await create_business(api, "bearer-co")
    r = await api.patch("/v1/businesses/bearer-co/agent", json={"greeting": {"customer": "Hi"}},
                        headers={**bearer(owner["token"]), "Origin": "https://elsewhere.example"})
    assert r.status_code == 200
    # a header wins over a cookie, whatever the cookie says
    page = await new_client()
    await cookie_login(page, "owner@bearer-co.example.com")
    r = await page.post("/v1/sessions", json={"role": "owner"}, headers=bearer(owner["token"]))
    assert r.status_code == 201


async def test_https_cookies_are_secure_with_host_prefix(new_client: NewClient) -> None:
    api = await new_client()
    await create_business(api, "tls-co")
    page = await new_client("https://voxa.test")
    r = await page.post("/v1/auth/login", json={
        "email": "owner@tls-co.example.com", "password": PASSWORD, "cookie": True,
    }, headers={"Origin": "https://voxa.test"})
    assert r.status_code == 200
    cookies = set_cookies(r)
    assert set(cookies) == {"__Host-voxa_session", "__Host-voxa_csrf"}
    assert all("; secure" in c for c in cookies.values())
    assert (await page.get("/v1/me")).status_code == 200
    csrf = page.cookies["__Host-voxa_csrf"]
    r = await page.post("/v1/sessions", json={"role": "owner"},
                        headers={"Origin": "https://voxa.test", "X-CSRF-Token": csrf})
    assert r.status_code == 201
    # the http origin of the same host is another origin
    r = await page.post("/v1/sessions", json={"role": "owner"},
                        headers={"Origin": "http://voxa.test", "X-CSRF-Token": csrf})
    assert_error(r, 403, "csrf_failed")


async def test_stale_cookie_does_not_break_anonymous_requests(new_client: NewClient) -> None:
    api = await new_client()
    await create_business(api, "stale-co")
    page = await new_client()
    headers = await cookie_login(page, "owner@stale-co.example.com")
    page.cookies.delete("voxa_session")
    page.cookies.set("voxa_session", "not-a-token")
    # a customer chat in the same browser still starts
    r = await page.post("/v1/sessions", json={"role": "customer", "business": "stale-co"},
                        headers=headers)
    assert r.status_code == 201
    assert_error(await page.get("/v1/me"), 401, "invalid_token")
