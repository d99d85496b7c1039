"""Small API helpers shared by the tests."""

from __future__ import annotations

from typing import Any

import httpx


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_business(
    client: httpx.AsyncClient, slug: str, *, owner_email: str | None = None, name: str | None = None
) -> dict[str, Any]:
    r = await client.post(
        "/v1/businesses",
        json={
            "name": name or slug.title(),
            "slug": slug,
            "owner": {
                "email": owner_email or f"owner@{slug}.example.com",
                "name": f"Owner {slug}",
                "password": "correct horse battery",
            },
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def create_user(client: httpx.AsyncClient, email: str, name: str = "Gene") -> dict[str, Any]:
    r = await client.post(
        "/v1/users", json={"email": email, "name": name, "password": "correct horse battery"}
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def start_customer(
    client: httpx.AsyncClient, slug: str, name: str = "Cust", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "role": "customer",
        "business": slug,
        "customer": {"name": name, **extra.pop("customer", {})},
        **extra,
    }
    r = await client.post("/v1/sessions", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def start_with_token(
    client: httpx.AsyncClient, token: str, role: str, **extra: Any
) -> dict[str, Any]:
    r = await client.post("/v1/sessions", json={"role": role, **extra}, headers=bearer(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


def assert_error(r: httpx.Response, status: int | tuple[int, ...], code: str | None = None) -> None:
    statuses = (status,) if isinstance(status, int) else status
    assert r.status_code in statuses, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body


PASSWORD = "correct horse battery"
SAME_ORIGIN = {"Origin": "http://voxa.test"}  # the test clients' own origin


async def cookie_login(c: httpx.AsyncClient, email: str, password: str = PASSWORD
                       ) -> dict[str, str]:
    """Log in the way the pages do (session cookie into ``c``'s jar); returns the
    headers an unsafe cookie-authenticated request needs."""
    r = await c.post("/v1/auth/login", json={"email": email, "password": password,
                                             "cookie": True}, headers=SAME_ORIGIN)
    assert r.status_code == 200, r.text
    assert r.json()["token"] is None  # the body never carries the cookie's token
    return {**SAME_ORIGIN, "X-CSRF-Token": c.cookies["voxa_csrf"]}
