"""GET/PATCH /v1/businesses/{slug}/settings: the sites allowed to embed the
widget. Owner-only, strictly validated, nothing written on bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import assert_error, bearer, create_business, create_user, start_customer

URL = "/v1/businesses/set-co/settings"
SAVED = ["https://shop.example.com"]

BAD_ORIGINS: list[Any] = [
    "shop.example.com",                      # no scheme
    "ftp://shop.example.com",                # not http(s)
    "javascript:alert(1)",
    "https://shop.example.com/path",
    "https://shop.example.com?q=1",
    "https://shop.example.com#frag",
    "https://user@shop.example.com",
    "https://*.example.com",
    "*",
    "'self'",
    "https://shop.example.com; script-src *",
    "https://shop example.com",
    "https://shop.example.com:0",
    "https://shop.example.com:70000",
    "https://[::1]",
    "https://" + "a" * 60 + "." + "b" * 60 + "." + "c" * 60 + "." + "d" * 20 + ".com",  # > 200
    "",
    42,
]


async def saved(client: httpx.AsyncClient, token: str) -> list[str]:
    r = await client.get(URL, headers=bearer(token))
    assert r.status_code == 200, r.text
    return list(r.json()["allowed_origins"])


async def test_owner_reads_and_replaces_the_allowed_sites(client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "set-co")
    assert await saved(client, owner["token"]) == []
    r = await client.patch(URL, headers=bearer(owner["token"]), json={"allowed_origins": [
        "HTTPS://Shop.Example.COM/", "http://127.0.0.1:8080", "https://shop.example.com"]})
    assert r.status_code == 200, r.text
    # lowercase, trailing slash gone, duplicates dropped, order kept
    expected = ["https://shop.example.com", "http://127.0.0.1:8080"]
    assert r.json() == {"allowed_origins": expected}
    assert await saved(client, owner["token"]) == expected
    r = await client.patch(URL, headers=bearer(owner["token"]), json={})
    assert r.status_code == 200 and r.json()["allowed_origins"] == expected  # nothing to change
    r = await client.patch(URL, headers=bearer(owner["token"]), json={"allowed_origins": []})
    assert r.status_code == 200 and await saved(client, owner["token"]) == []


@pytest.mark.parametrize("body", [
    *({"allowed_origins": [SAVED[0], bad]} for bad in BAD_ORIGINS),
    {"allowed_origins": [f"https://s{i}.example.com" for i in range(21)]},
    {"allowed_origins": "https://shop.example.com"},
    {"allowed_origins": SAVED, "limits": {"sessions": 10**9}},
])
async def test_bad_input_is_a_422_and_nothing_is_written(client: httpx.AsyncClient,
                                                         body: dict[str, Any]) -> None:
    owner = await create_business(client, "set-co")
    r = await client.patch(URL, headers=bearer(owner["token"]), json={"allowed_origins": SAVED})
    assert r.status_code == 200, r.text
    r = await client.patch(URL, headers=bearer(owner["token"]), json=body)
    assert_error(r, 422, "validation_error")
    assert await saved(client, owner["token"]) == SAVED


async def test_only_the_owner_may_read_or_change_them(client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "set-co")
    other = await create_business(client, "rival-co")
    general = await create_user(client, "gene@example.com")
    customer = await start_customer(client, "set-co")
    change = {"allowed_origins": ["https://evil.example.com"]}
    # another business's owner: the business looks unknown
    assert_error(await client.get(URL, headers=bearer(other["token"])), 404, "unknown_business")
    assert_error(await client.patch(URL, headers=bearer(other["token"]), json=change),
                 404, "unknown_business")
    for token in (general["token"], customer["session_token"]):
        assert_error(await client.patch(URL, headers=bearer(token), json=change), 403)
    assert_error(await client.patch(URL, json=change), 401)
    assert await saved(client, owner["token"]) == []
    # the rival's own settings are untouched by all of this, and its own work
    r = await client.get("/v1/businesses/rival-co/settings", headers=bearer(other["token"]))
    assert r.status_code == 200 and r.json() == {"allowed_origins": []}
