from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import update

from tests.helpers import (
    assert_error,
    bearer,
    create_business,
    create_user,
    start_customer,
    start_with_token,
)
from voxa.kv.keys import agent_pid_key, all_session_keys, config_key, conversation_key
from voxa.runtime import Runtime
from voxa.sessions.config import store_config
from voxa.storage.models import AgentSession
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow


async def _stored_config(rt: Runtime, sid: str) -> dict[str, object]:
    raw = await rt.store.get(config_key(sid))
    assert raw is not None
    return dict(json.loads(raw))


async def test_start_all_three_roles(client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await create_business(client, "roles-co")
    user = await create_user(client, "gen@example.com")
    c = await start_customer(client, "roles-co", "Cleo")
    o = await start_with_token(client, owner["token"], "owner", business="roles-co")
    g = await start_with_token(client, user["token"], "general")
    assert c["room_name"] == f"roles-co-session-{c['session_id']}"
    assert o["room_name"] == f"owner-roles-co-session-{o['session_id']}"
    assert g["room_name"] == f"general-session-{g['session_id']}"
    assert g["business"] is None and c["business"] == o["business"] == "roles-co"
    assert c["customer_id"].startswith("cus_") and o["customer_id"] is None
    for s in (c, o, g):
        assert s["status"] == "active" and s["livekit"]["token"]
        ttl = await runtime.store.ttl(config_key(s["session_id"]))
        assert ttl is not None and 3.9 * 3600 < ttl <= 4 * 3600


async def test_customer_id_reused_and_verified(client: httpx.AsyncClient) -> None:
    await create_business(client, "cid-a")
    await create_business(client, "cid-b")
    first = await start_customer(client, "cid-a")
    again = await start_customer(client, "cid-a", customer={"customer_id": first["customer_id"]})
    assert again["customer_id"] == first["customer_id"]
    r1 = await client.get(
        f"/v1/sessions/{first['session_id']}", headers=bearer(first["session_token"])
    )
    r2 = await client.get(
        f"/v1/sessions/{again['session_id']}", headers=bearer(again["session_token"])
    )
    assert r1.json()["user_id"] == r2.json()["user_id"]
    r = await client.post(
        "/v1/sessions",
        json={
            "role": "customer",
            "business": "cid-b",
            "customer": {"customer_id": first["customer_id"]},
        },
    )
    assert_error(r, 400, "invalid_customer_id")
    r = await client.post(
        "/v1/sessions",
        json={
            "role": "customer",
            "business": "cid-a",
            "customer": {"customer_id": "cus_guess.abc"},
        },
    )
    assert_error(r, 400, "invalid_customer_id")


async def test_same_email_is_not_an_identity(client: httpx.AsyncClient) -> None:
    await create_business(client, "mail-co")
    a = await start_customer(client, "mail-co", customer={"email": "same@example.com"})
    b = await start_customer(client, "mail-co", customer={"email": "same@example.com"})
    ra = await client.get(f"/v1/sessions/{a['session_id']}", headers=bearer(a["session_token"]))
    rb = await client.get(f"/v1/sessions/{b['session_id']}", headers=bearer(b["session_token"]))
    assert ra.json()["user_id"] != rb.json()["user_id"]


async def test_one_user_two_sessions_two_voices(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The classic per-user-config bug: config is keyed by session, never by user."""
    user = await create_user(client, "dana@example.com", "Dana")
    s1, s2 = await asyncio.gather(
        start_with_token(client, user["token"], "general", config={"voice": "Craig"}),
        start_with_token(client, user["token"], "general", config={"voice": "Olivia"}),
    )
    assert s1["config"]["voice"] == "craig" and s2["config"]["voice"] == "olivia"
    assert (await _stored_config(runtime, s1["session_id"]))["voice"] == "craig"
    assert (await _stored_config(runtime, s2["session_id"]))["voice"] == "olivia"

    r = await client.patch(
        f"/v1/sessions/{s1['session_id']}/config",
        json={"voice": "aria"},
        headers=bearer(user["token"]),
    )
    assert r.status_code == 200 and r.json()["config"]["voice"] == "aria"
    served = {
        s["session_id"]: (
            await client.get(f"/v1/sessions/{s['session_id']}", headers=bearer(user["token"]))
        ).json()
        for s in (s1, s2)
    }
    assert served[s1["session_id"]]["config"]["voice"] == "aria"
    assert served[s2["session_id"]]["config"]["voice"] == "olivia"
    assert (await _stored_config(runtime, s2["session_id"]))["voice"] == "olivia"

    r = await client.patch(
        f"/v1/sessions/{s2['session_id']}/config",
        json={"voice": "craig", "speaking_rate": 1.2},
        headers=bearer(s2["session_token"]),
    )
    assert r.status_code == 200
    assert (await _stored_config(runtime, s1["session_id"]))["voice"] == "aria"
    assert (await _stored_config(runtime, s2["session_id"]))["speaking_rate"] == 1.2


async def test_unknown_voice_refused_at_start_and_patch(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "voice-co")
    r = await client.post(
        "/v1/sessions",
        json={"role": "customer", "business": "voice-co", "config": {"voice": "Morgan Freeman"}},
    )
    assert_error(r, 400, "unknown_voice")
    async with runtime.db() as db:
        assert await sessions_repo.list_sessions(db, scope=Scope.system()) == []
    s = await start_customer(client, "voice-co", config={"voice": "olivia"})
    r = await client.patch(
        f"/v1/sessions/{s['session_id']}/config",
        json={"voice": "nope"},
        headers=bearer(s["session_token"]),
    )
    assert_error(r, 400, "unknown_voice")
    assert (await _stored_config(runtime, s["session_id"]))["voice"] == "olivia"
    voices = (await client.get("/v1/voices")).json()
    assert {"craig", "olivia", "joe"} <= {v["id"] for v in voices}
    assert all(set(v) == {"id", "name", "engine", "language", "source", "available"}
               for v in voices)


async def test_missing_config_rebuilt_from_row(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await create_business(client, "rebuild-co")
    s = await start_customer(client, "rebuild-co", config={"voice": "craig"})
    await runtime.store.delete(config_key(s["session_id"]))
    r = await client.get(f"/v1/sessions/{s['session_id']}", headers=bearer(s["session_token"]))
    assert r.json()["config"]["voice"] == "craig"
    assert (await _stored_config(runtime, s["session_id"]))["voice"] == "craig"
    assert await runtime.store.ttl(config_key(s["session_id"])) is not None


async def _age(rt: Runtime, sid: str, *, minutes: float) -> None:
    async with rt.db() as db:
        await db.execute(
            update(AgentSession)
            .where(AgentSession.session_id == sid)
            .values(last_activity_at=utcnow() - timedelta(minutes=minutes))
        )
        await db.commit()


async def test_resume_inside_and_outside_window(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "resume-co")
    s = await start_customer(client, "resume-co", "Rita")
    await _age(runtime, s["session_id"], minutes=29)
    r = await client.post(
        f"/v1/sessions/{s['session_id']}/resume", headers=bearer(s["session_token"])
    )
    assert r.status_code == 200, r.text
    resumed = r.json()
    assert resumed["session_id"] == s["session_id"] and resumed["room_name"] == s["room_name"]
    claims = runtime.livekit.verify(resumed["livekit"]["token"])  # type: ignore[union-attr]
    assert claims.video.room == s["room_name"]
    await _age(runtime, s["session_id"], minutes=31)
    r = await client.post(
        f"/v1/sessions/{s['session_id']}/resume", headers=bearer(s["session_token"])
    )
    assert_error(r, 410, "resume_window_passed")
    other = await start_customer(client, "resume-co")
    r = await client.post(
        f"/v1/sessions/{s['session_id']}/resume", headers=bearer(other["session_token"])
    )
    assert_error(r, 404, "session_not_found")


async def test_end_removes_all_keys_and_late_writes_do_not_revive(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "end-co")
    s = await start_customer(client, "end-co")
    sid = s["session_id"]
    await runtime.store.set(agent_pid_key(sid), "4242", ttl=30)
    await runtime.store.set(conversation_key(sid), "[]", ttl=30)
    assert await runtime.store.exists(*all_session_keys(sid)) == 4

    r = await client.post(f"/v1/sessions/{sid}/end", headers=bearer(s["session_token"]))
    assert r.status_code == 200 and r.json()["status"] == "ended"
    assert r.json()["end_reason"] == "ended_by_user"
    assert await runtime.store.exists(*all_session_keys(sid)) == 0
    again = await client.post(f"/v1/sessions/{sid}/end", headers=bearer(s["session_token"]))
    assert again.status_code == 200 and again.json()["ended_at"] == r.json()["ended_at"]

    # Late writes: a config patch, a resume, and a stale in-flight cache write.
    patch = await client.patch(
        f"/v1/sessions/{sid}/config", json={"voice": "craig"}, headers=bearer(s["session_token"])
    )
    assert_error(patch, 410, "session_ended")
    assert_error(
        await client.post(f"/v1/sessions/{sid}/resume", headers=bearer(s["session_token"])),
        410,
        "session_ended",
    )
    async with runtime.db() as db:
        row = await sessions_repo.get(db, sid, scope=Scope.system())
        assert row is not None
        assert await sessions_repo.add_messages(db, sid, 1, scope=Scope.system()) is None
        await db.commit()
    await store_config(runtime.store, runtime.db, row, {"voice": "craig"}, max_hours=4)
    assert await runtime.store.exists(*all_session_keys(sid)) == 0
    got = (await client.get(f"/v1/sessions/{sid}", headers=bearer(s["session_token"]))).json()
    assert got["status"] == "ended" and got["message_count"] == 0
    assert await runtime.store.exists(*all_session_keys(sid)) == 0


async def test_owner_reads_and_ends_customer_session(client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "own-co")
    s = await start_customer(client, "own-co")
    r = await client.get(f"/v1/sessions/{s['session_id']}", headers=bearer(owner["token"]))
    assert r.status_code == 200
    r = await client.get(
        "/v1/businesses/own-co/sessions?status=active", headers=bearer(owner["token"])
    )
    assert [x["session_id"] for x in r.json()["sessions"]] == [s["session_id"]]
    # Reading is not holding: the owner may not speak for the customer.
    r = await client.patch(
        f"/v1/sessions/{s['session_id']}/config",
        json={"voice": "craig"},
        headers=bearer(owner["token"]),
    )
    assert_error(r, 403, "not_session_holder")
    r = await client.post(f"/v1/sessions/{s['session_id']}/end", headers=bearer(owner["token"]))
    assert r.status_code == 200 and r.json()["end_reason"] == "ended_by_owner"
    stats = (await client.get("/v1/businesses/own-co/stats", headers=bearer(owner["token"]))).json()
    assert stats["total_sessions"] == 1 and stats["active_sessions"] == 0


async def test_session_older_than_max_age_times_out_on_access(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await create_business(client, "old-co")
    s = await start_customer(client, "old-co")
    async with runtime.db() as db:
        await db.execute(
            update(AgentSession)
            .where(AgentSession.session_id == s["session_id"])
            .values(started_at=utcnow() - timedelta(hours=5))
        )
        await db.commit()
    r = await client.get(f"/v1/sessions/{s['session_id']}", headers=bearer(s["session_token"]))
    assert r.json()["status"] == "timeout" and r.json()["end_reason"] == "max_age"
    assert await runtime.store.exists(*all_session_keys(s["session_id"])) == 0


async def test_sessions_on_the_sql_store_never_wait_on_their_own_lock(
        tmp_path: Path) -> None:
    """The embedded voice setup keeps the TTL store in the database: no store
    call may happen while the same request holds a write transaction."""
    import asyncio as aio

    from tests.conftest import make_settings
    from voxa.agent.scripted_llm import ScriptedLLM
    from voxa.api.app import create_app
    from voxa.runtime import open_runtime

    settings = make_settings(tmp_path, store="sql")
    rt = await open_runtime(settings)
    app = create_app(settings, runtime=rt, model=ScriptedLLM())
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as c:
            await create_business(c, "sqlstore-co")
            user = await create_user(c, "sql@example.com")
            async with aio.timeout(20):
                s = await start_customer(c, "sqlstore-co")
                again = await start_customer(c, "sqlstore-co",
                                             customer={"customer_id": s["customer_id"]})
                g = await start_with_token(c, user["token"], "general", config={"voice": "craig"})
                r = await c.post(f"/v1/sessions/{s['session_id']}/messages", json={"text": "hi"},
                                 headers=bearer(s["session_token"]))
                assert r.status_code == 200
                r = await c.patch(f"/v1/sessions/{g['session_id']}/config",
                                  json={"voice": "olivia"}, headers=bearer(user["token"]))
                assert r.status_code == 200
                r = await c.post(f"/v1/sessions/{again['session_id']}/end",
                                 headers=bearer(again["session_token"]))
                assert r.status_code == 200
            assert (await _stored_config(rt, g["session_id"]))["voice"] == "olivia"
            assert await rt.store.exists(*all_session_keys(again["session_id"])) == 0
    finally:
        await rt.aclose()
