"""Isolation under concurrency: 3 businesses x 5 customers + owners + general
users starting sessions at once; every room unique, every token's grant names
only its own room, every participant attribute matches the stored session."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.helpers import bearer, create_business, create_user
from voxa.runtime import Runtime
from voxa.sessions.rooms import parse_room_name
from voxa.storage.models import AgentSession
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope

VOICES = ["craig", "olivia", "aria", "max", "joe"]


async def test_concurrent_starts_across_tenants_and_roles(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    slugs = ["iso-one", "iso-two", "iso-three"]
    owners = {s: await create_business(client, s) for s in slugs}
    generals = [await create_user(client, f"gen{i}@example.com", f"Gen{i}") for i in range(3)]

    requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
    for s in slugs:
        for i in range(5):
            requests.append(
                (
                    f"{s}/cust{i}",
                    {
                        "role": "customer",
                        "business": s,
                        "channel": "voice",
                        "customer": {"name": f"{s}-cust{i}"},
                        "config": {"voice": VOICES[i]},
                    },
                    {},
                )
            )
        for j in range(2):  # one owner, two concurrent sessions
            requests.append(
                (
                    f"{s}/owner{j}",
                    {"role": "owner", "business": s, "config": {"voice": VOICES[j]}},
                    bearer(owners[s]["token"]),
                )
            )
    for k, g in enumerate(generals):
        for j in range(2):
            requests.append(
                (
                    f"general{k}/{j}",
                    {
                        "role": "general",
                        "channel": "voice",
                        "config": {"voice": VOICES[(k + j) % 5]},
                    },
                    bearer(g["token"]),
                )
            )

    async def start(body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        r = await client.post("/v1/sessions", json=body, headers=headers)
        assert r.status_code == 201, r.text
        return dict(r.json())

    results = await asyncio.gather(*(start(b, h) for _, b, h in requests))
    assert len(results) == len(requests) == 3 * 5 + 3 * 2 + 3 * 2

    rooms = [r["room_name"] for r in results]
    assert len(set(rooms)) == len(rooms)
    assert len({r["session_id"] for r in results}) == len(results)

    assert runtime.livekit is not None
    async with runtime.db() as db:
        stored = {
            row.session_id: row
            for row in await sessions_repo.list_sessions(db, scope=Scope.system(), limit=1000)
        }
    slug_of = {o["business"]["id"]: s for s, o in owners.items()}
    for (_label, body, _), res in zip(requests, results, strict=True):
        row: AgentSession = stored[res["session_id"]]
        claims = runtime.livekit.verify(res["livekit"]["token"])
        # The grant names only its own room, with no admin or metadata rights.
        assert claims.video.room == res["room_name"] == row.room_name
        assert claims.video.room_join and not claims.video.room_admin
        assert claims.video.can_update_own_metadata is False
        assert not claims.video.room_create and not claims.video.room_list
        # Attributes match the stored session, and carry no e-mail.
        attrs = claims.attributes
        assert attrs["sessionId"] == row.session_id
        assert attrs["role"] == row.role == body["role"]
        assert attrs["businessId"] == (slug_of[row.business_id] if row.business_id else "")
        assert claims.identity == f"{row.role}-{row.user_id}"
        assert "@" not in str(attrs)
        assert claims.room_config is not None
        assert [a.agent_name for a in claims.room_config.agents] == ["voxa-agent"]
        parsed = parse_room_name(row.room_name)
        assert parsed.session_id == row.session_id and str(parsed.role) == row.role
        # Config stayed with its own session.
        assert row.config["voice"] == body["config"]["voice"] == res["config"]["voice"]
        if body["role"] == "customer":
            assert attrs["userName"] == body["customer"]["name"]
