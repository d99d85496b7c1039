"""Calls the cluster tests make through the real API of a chosen replica."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def business(http: httpx.AsyncClient, base: str, name: str) -> tuple[str, str]:
    slug = f"{name}-{uuid.uuid4().hex[:6]}"
    r = await http.post(f"{base}/v1/businesses", json={
        "name": name.title(), "slug": slug,
        "owner": {"email": f"owner@{slug}.example.com", "name": "Olu",
                  "password": "correct horse battery"}})
    assert r.status_code == 201, r.text
    return slug, str(r.json()["token"])


async def start(http: httpx.AsyncClient, base: str, slug: str, *,
                channel: str = "text") -> dict[str, Any]:
    r = await http.post(f"{base}/v1/sessions", json={
        "role": "customer", "business": slug, "channel": channel,
        "customer": {"name": "Cleo"}})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def send(http: httpx.AsyncClient, base: str, grant: dict[str, Any], text: str,
               cmid: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"text": text}
    if cmid is not None:
        body["client_message_id"] = cmid
    return await http.post(f"{base}/v1/sessions/{grant['session_id']}/messages", json=body,
                           headers=bearer(grant["session_token"]))


async def history(http: httpx.AsyncClient, base: str,
                  grant: dict[str, Any]) -> list[dict[str, Any]]:
    r = await http.get(f"{base}/v1/sessions/{grant['session_id']}/messages?limit=200",
                       headers=bearer(grant["session_token"]))
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool],
                     within: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + within
    while True:
        got = check()
        if not isinstance(got, bool):
            got = await got
        if got:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(every)


def unanswered(messages: list[dict[str, Any]], sent: list[str]) -> list[str]:
    """The sent texts that are not in ``messages`` as a user message followed
    by its reply ("You said: …"): acknowledged turns the cluster lost."""
    pairs = set(zip((m["content"] for m in messages), (m["content"] for m in messages[1:]),
                    strict=False))
    return [t for t in sent if (t, f"You said: {t}") not in pairs]
