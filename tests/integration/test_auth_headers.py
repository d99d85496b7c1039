"""Malformed, empty and non-ASCII ``Authorization`` headers are a 401 with the
JSON error shape, never a 500. httpx refuses non-ASCII header values, so the
app is called directly with raw ASGI header bytes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.conftest import make_settings
from voxa.api.app import create_app
from voxa.runtime import open_runtime

OPERATOR = "op-" + "x" * 40
HEADERS = [
    b"Bearer \xc3\xa4",  # "Bearer ä" in UTF-8
    b"Bearer \xe4",  # ... in Latin-1
    "Bearer ä".encode("utf-16"),
    b"Bearer \xff\xfe\x80\x81",
    b"\xe4",
    b"Basic x",
    b"Basic dXNlcjpwYXNz",
    b"Bearer",
    b"Bearer ",
    b"",
    b"   ",
    b"Bearer a b",
    b"Bearer a\tb",
    b"Bearer " + b"a" * 20_000,
    b"Bearer x.y.z",
    b"Bearer " + OPERATOR.encode() + b"\xe4",
    b"token",
]


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    # With an operator token configured: comparing a non-ASCII str against it
    # once raised TypeError (a 500).
    settings = make_settings(tmp_path, operator_token=OPERATOR)
    rt = await open_runtime(settings)
    try:
        yield create_app(settings, runtime=rt)
    finally:
        await rt.aclose()


async def call(app: FastAPI, method: str, path: str, authorization: bytes,
               body: bytes = b"") -> tuple[int, dict[str, Any]]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 40000),
        "server": ("voxa.test", 80),
        "headers": [(b"host", b"voxa.test"), (b"authorization", authorization),
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    status = sent[0]["status"]
    payload = b"".join(m.get("body", b"") for m in sent[1:])
    return status, json.loads(payload)


@pytest.mark.parametrize("authorization", HEADERS)
async def test_malformed_authorization_is_401(app: FastAPI, authorization: bytes) -> None:
    customer = json.dumps({"role": "customer", "business": "nope"}).encode()
    for method, path, body in [
        ("GET", "/v1/me", b""),
        ("POST", "/v1/sessions", customer),  # anonymous is allowed, a bad header is not
        ("GET", "/v1/sessions/1700000000000-00000000-0000-4000-8000-000000000000", b""),
        ("POST", "/v1/auth/logout", b""),
    ]:
        status, data = await call(app, method, path, authorization, body)
        assert status == 401, (path, authorization, data)
        assert set(data) == {"error"} and data["error"]["code"] in (
            "invalid_token", "unauthenticated"), data
        assert data["error"]["message"]


async def test_the_operator_token_still_works(app: FastAPI) -> None:
    path = "/v1/sessions/1700000000000-00000000-0000-4000-8000-000000000000"
    status, data = await call(app, "GET", path, b"Bearer " + OPERATOR.encode())
    assert (status, data["error"]["code"]) == (404, "session_not_found")
    status, data = await call(app, "GET", "/v1/me", b"Bearer " + OPERATOR.encode())
    assert (status, data["error"]["code"]) == (403, "not_an_account")
