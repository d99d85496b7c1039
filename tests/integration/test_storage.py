"""Storage suite, run on SQLite and PostgreSQL: constraints, scoping, lifecycle
writes, cascade and stats behave the same on both."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from voxa.runtime import Runtime
from voxa.sessions.ids import new_session_id
from voxa.sessions.rooms import build_room_name
from voxa.storage.models import AgentConfig, AgentMessage, AgentSession, Business, Memory
from voxa.storage.repos import businesses as businesses_repo
from voxa.storage.repos import messages as messages_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.repos.stats import business_stats
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow


async def _business(rt: Runtime, slug: str) -> Business:
    async with rt.db() as db:
        b = Business(slug=slug, name=slug)
        db.add(b)
        await db.flush()
        db.add(AgentConfig(business_id=b.id, name="a", is_default=True))
        await db.commit()
        return b


async def _session(
    rt: Runtime, b: Business | None, user: str, role: str = "customer", **kw: object
) -> AgentSession:
    sid = new_session_id()
    async with rt.db() as db:
        agent = await businesses_repo.default_agent(db, business_id=b.id if b else None)
        assert agent is not None
        row = AgentSession(
            session_id=sid,
            agent_id=agent.id,
            business_id=b.id if b else None,
            role=role,
            user_id=user,
            channel="text",
            room_name=build_room_name(role, b.slug if b else None, sid),
            status="active",
            config={},
            **kw,
        )
        db.add(row)
        await db.commit()
        return row


async def test_general_agent_seeded_by_migration(runtime: Runtime) -> None:
    async with runtime.db() as db:
        agent = await businesses_repo.default_agent(db, business_id=None)
    assert agent is not None and agent.business_id is None


async def test_datetimes_round_trip_as_utc(runtime: Runtime) -> None:
    b = await _business(runtime, "tz-co")
    s = await _session(runtime, b, "u1")
    async with runtime.db() as db:
        row = await sessions_repo.get(db, s.session_id, scope=Scope.system())
    assert row is not None and row.started_at.tzinfo is not None
    assert abs((row.started_at - utcnow()).total_seconds()) < 60


async def test_slug_is_unique(runtime: Runtime) -> None:
    await _business(runtime, "dup-co")
    with pytest.raises(IntegrityError):
        await _business(runtime, "dup-co")


async def test_scoped_reads_never_cross(runtime: Runtime) -> None:
    a, b = await _business(runtime, "alpha"), await _business(runtime, "beta")
    sa = await _session(runtime, a, "u1")
    sb = await _session(runtime, b, "u1")  # same user id in another business
    sg = await _session(runtime, None, "u1", role="general")
    async with runtime.db() as db:
        get = sessions_repo.get
        assert await get(db, sa.session_id, scope=Scope.business(a.id)) is not None
        assert await get(db, sb.session_id, scope=Scope.business(a.id)) is None
        assert await get(db, sg.session_id, scope=Scope.business(a.id)) is None
        assert await get(db, sa.session_id, scope=Scope.user("u1", a.id)) is not None
        assert await get(db, sa.session_id, scope=Scope.user("u2", a.id)) is None
        assert await get(db, sa.session_id, scope=Scope.user("u1", b.id)) is None
        assert await get(db, sa.session_id, scope=Scope.user("u1", None)) is None
        assert await get(db, sg.session_id, scope=Scope.user("u1", None)) is not None
        listed = await sessions_repo.list_sessions(db, scope=Scope.business(b.id))
        assert [r.session_id for r in listed] == [sb.session_id]


async def test_finish_is_conditional_and_blocks_late_writes(runtime: Runtime) -> None:
    b = await _business(runtime, "life-co")
    s = await _session(runtime, b, "u1")
    async with runtime.db() as db:
        results = [
            await sessions_repo.finish(
                db, s.session_id, scope=Scope.system(), status="ended", reason="test"
            )
            for _ in range(3)
        ]
        await db.commit()
    assert results == [True, False, False]
    async with runtime.db() as db:
        assert await sessions_repo.add_messages(db, s.session_id, 1, scope=Scope.system()) is None
        assert not await sessions_repo.touch(db, s.session_id, scope=Scope.system())
        assert not await sessions_repo.set_config(
            db, s.session_id, {"voice": "x"}, scope=Scope.system()
        )
        await db.commit()
        row = await sessions_repo.get(db, s.session_id, scope=Scope.system())
    assert row is not None and row.status == "ended" and row.message_count == 0
    assert row.config == {}


async def test_concurrent_touches_count_exactly(runtime: Runtime) -> None:
    b = await _business(runtime, "count-co")
    s = await _session(runtime, b, "u1")

    async def touch() -> None:
        async with runtime.db() as db:
            assert await sessions_repo.add_messages(db, s.session_id, 2, scope=Scope.system())
            await db.commit()

    await asyncio.gather(*(touch() for _ in range(25)))
    async with runtime.db() as db:
        row = await sessions_repo.get(db, s.session_id, scope=Scope.system())
    assert row is not None and row.message_count == 50


async def test_concurrent_context_merges_keep_every_key(runtime: Runtime) -> None:
    """A voice job, the cleanup job and a summary fold write different keys of
    one session's context at once: no writer drops another's key."""
    b = await _business(runtime, "merge-co")
    s = await _session(runtime, b, "u1", context_data={"kept": True})

    async def merge(i: int) -> None:
        async with runtime.db() as db:
            assert await sessions_repo.merge_context(db, s.session_id, {f"k{i}": i},
                                                     scope=Scope.system())
            await asyncio.sleep(0.01)  # hold the transaction open while others merge
            await db.commit()

    await asyncio.gather(*(merge(i) for i in range(25)))
    async with runtime.db() as db:
        row = await sessions_repo.get(db, s.session_id, scope=Scope.system())
    assert row is not None
    assert row.context_data == {"kept": True, **{f"k{i}": i for i in range(25)}}


async def test_context_merge_is_shallow_scoped_and_seen_by_loaded_rows(
        runtime: Runtime) -> None:
    a, other = await _business(runtime, "shallow-co"), await _business(runtime, "other-co")
    s = await _session(runtime, a, "u1",
                       context_data={"nested": {"x": 1, "y": 2}, "gone": "no", "n": 1})
    async with runtime.db() as db:
        loaded = await sessions_repo.get(db, s.session_id, scope=Scope.system())
        assert loaded is not None and loaded.context_data["n"] == 1
        changes = {"nested": {"x": 3}, "gone": None, "odd key.$[0]": [1, "two"]}
        assert await sessions_repo.merge_context(db, s.session_id, changes,
                                                 scope=Scope.business(a.id))
        assert loaded.context_data == {"n": 1, **changes}
        # out of scope, unknown, or a key SQLite cannot address: nothing written
        with pytest.raises(ValueError):
            await sessions_repo.merge_context(db, s.session_id, {"n": 9, 'a"b': 1},
                                              scope=Scope.system())
        assert not await sessions_repo.merge_context(db, s.session_id, {"n": 9},
                                                     scope=Scope.business(other.id))
        assert not await sessions_repo.merge_context(db, new_session_id(), {"n": 9},
                                                     scope=Scope.system())
        await db.commit()
    async with runtime.db() as db:
        row = await sessions_repo.get(db, s.session_id, scope=Scope.system())
    assert row is not None and row.context_data == {"n": 1, **changes}


async def test_messages_order_scope_and_cascade(runtime: Runtime) -> None:
    a, b = await _business(runtime, "msg-a"), await _business(runtime, "msg-b")
    s = await _session(runtime, a, "u1")
    async with runtime.db() as db:
        for i in range(30):
            db.add(AgentMessage(session_id=s.session_id, role="user", content=f"m{i}"))
        await db.commit()
        last = await messages_repo.list_messages(
            db, s.session_id, scope=Scope.business(a.id), limit=10
        )
        assert [m.content for m in last] == [f"m{i}" for i in range(20, 30)]
        older = await messages_repo.list_messages(
            db, s.session_id, scope=Scope.business(a.id), limit=5, before=last[0].id
        )
        assert [m.content for m in older] == [f"m{i}" for i in range(15, 20)]
        assert await messages_repo.list_messages(db, s.session_id, scope=Scope.business(b.id)) == []
        row = await sessions_repo.get(db, s.session_id, scope=Scope.system())
        await db.delete(row)
        await db.commit()
        n = await db.scalar(select(func.count()).select_from(AgentMessage))
    assert n == 0


async def test_client_message_id_unique_per_session(runtime: Runtime) -> None:
    b = await _business(runtime, "idem-co")
    s1, s2 = await _session(runtime, b, "u1"), await _session(runtime, b, "u2")
    async with runtime.db() as db:
        db.add(
            AgentMessage(session_id=s1.session_id, role="user", content="a", client_message_id="c1")
        )
        db.add(
            AgentMessage(session_id=s2.session_id, role="user", content="a", client_message_id="c1")
        )
        await db.commit()
    with pytest.raises(IntegrityError):
        async with runtime.db() as db:
            db.add(
                AgentMessage(
                    session_id=s1.session_id, role="user", content="b", client_message_id="c1"
                )
            )
            await db.commit()


async def test_memory_key_unique_per_namespace(runtime: Runtime) -> None:
    async with runtime.db() as db:
        db.add(Memory(scope="general", user_id="u1", category="FACT", key="k", value="1"))
        db.add(Memory(scope="general", user_id="u2", category="FACT", key="k", value="2"))
        await db.commit()
    with pytest.raises(IntegrityError):
        async with runtime.db() as db:
            db.add(Memory(scope="general", user_id="u1", category="FACT", key="k", value="3"))
            await db.commit()


async def test_stale_ids_and_stats(runtime: Runtime) -> None:
    b = await _business(runtime, "stats-co")
    other = await _business(runtime, "other-co")
    old = utcnow() - timedelta(hours=30)
    await _session(runtime, b, "u1", message_count=4)
    idle = await _session(runtime, b, "u2", message_count=2, last_activity_at=old, started_at=old)
    await _session(runtime, other, "u3", message_count=100)
    now = utcnow()
    async with runtime.db() as db:
        ids = await sessions_repo.stale_ids(
            db,
            scope=Scope.system(),
            inactive_before=now - timedelta(hours=24),
            started_before=now - timedelta(hours=4),
        )
        stats = await business_stats(db, scope=Scope.business(b.id))
    assert ids == [idle.session_id]
    assert stats["total_sessions"] == 2 and stats["active_sessions"] == 2
    assert stats["avg_messages_per_session"] == 3.0
    assert sum(h["sessions"] for h in stats["sessions_by_hour"]) == 2
    assert stats["busiest_hours"][0]["sessions"] >= 1
