"""Issue 10 §6: PostgreSQL row-level security is a second wall under the scope checks.

The database is migrated by, and owned by, a role that is neither a superuser
nor BYPASSRLS (as the application must connect); queries here deliberately
leave out every WHERE clause, so only the policies stand between tenants.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import PG_URL, _pg_admin
from voxa.storage.db import create_engine, session_factory
from voxa.storage.migrate import migrate
from voxa.storage.models import AgentConfig, AgentMessage, AgentSession, Business, Memory, Ticket
from voxa.storage.scope import Scope
from voxa.storage.tenancy import db_scope, rls_bypassed

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="row-level security needs VOXA_TEST_POSTGRES_URL"),
]

OWNER_ROLE = "voxa_rls_owner"
TABLES = ("agents", "agent_sessions", "agent_messages", "tickets", "memories")


@pytest.fixture
async def owned_db() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A fresh database whose tables the non-superuser role created (and owns)."""
    assert PG_URL
    await _pg_admin(f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER_ROLE}') THEN
            CREATE ROLE {OWNER_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '{OWNER_ROLE}';
        END IF; END $$""")
    name = f"voxa_rls_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f"CREATE DATABASE {name} OWNER {OWNER_ROLE}")
    url = (make_url(PG_URL).set(database=name, username=OWNER_ROLE, password=OWNER_ROLE)
           .render_as_string(hide_password=False))
    engine = create_engine(url, pool_size=1, max_overflow=0)  # one connection: no leaks
    try:
        await migrate(engine)
        yield session_factory(engine)
    finally:
        await engine.dispose()
        await _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _seed(db: async_sessionmaker[AsyncSession], tag: str, business: bool) -> dict[str, str]:
    """A business (or the general tenant) with one session, message, ticket and memory."""
    async with db() as s:
        bid = None
        if business:
            b = Business(slug=f"rls-{tag}", name=tag.upper())
            s.add(b)
            await s.flush()
            bid = b.id
        agent = AgentConfig(business_id=bid, name=f"{tag} agent", is_default=True)
        s.add(agent)
        await s.flush()
        sid = f"sess-{tag}-{uuid.uuid4().hex[:8]}"
        s.add(AgentSession(session_id=sid, agent_id=agent.id, business_id=bid, role="customer",
                           user_id=str(uuid.uuid4()), channel="text", room_name=f"room-{sid}"))
        await s.flush()
        s.add(AgentMessage(session_id=sid, role="user", content=f"secret of {tag}"))
        if bid is not None:
            s.add(Ticket(business_id=bid, session_id=sid, user_id="u", subject=tag, body=tag))
        s.add(Memory(scope=bid or "general", user_id="u", category="FACT", key="k", value=tag))
        await s.commit()
    return {"business_id": bid or "", "session_id": sid}


async def _visible(db: async_sessionmaker[AsyncSession], table: str) -> set[str]:
    """What a query without any WHERE clause returns, as the tenant markers it holds."""
    column = {"agents": "name", "agent_sessions": "session_id", "agent_messages": "session_id",
              "tickets": "session_id", "memories": "value"}[table]
    async with db() as s:
        rows = (await s.execute(text(f"SELECT {column} FROM {table}"))).scalars()
        return {str(r) for r in rows}


@pytest.fixture
async def tenants(owned_db: async_sessionmaker[AsyncSession]) -> dict[str, dict[str, str]]:
    with db_scope(Scope.system()):
        return {"a": await _seed(owned_db, "a", True), "b": await _seed(owned_db, "b", True),
                "general": await _seed(owned_db, "g", False)}


async def test_app_role_is_owner_and_cannot_bypass(
        owned_db: async_sessionmaker[AsyncSession]) -> None:
    async with owned_db() as s:
        row = (await s.execute(text(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"))).one()
        assert tuple(row) == (False, False)
        for table in TABLES:
            owner, forced = (await s.execute(text(
                "SELECT pg_get_userbyid(c.relowner), c.relforcerowsecurity FROM pg_class c "
                "WHERE c.relname = :t AND c.relrowsecurity"), {"t": table})).one()
            assert (owner, forced) == (OWNER_ROLE, True), table


async def test_a_role_that_bypasses_rls_is_detected(
        owned_db: async_sessionmaker[AsyncSession]) -> None:
    assert PG_URL
    admin = create_engine(PG_URL)  # the test cluster's superuser
    try:
        assert await rls_bypassed(admin)
    finally:
        await admin.dispose()
    assert not await rls_bypassed(owned_db.kw["bind"])


async def test_unscoped_queries_see_only_the_bound_tenant(
        owned_db: async_sessionmaker[AsyncSession], tenants: dict[str, dict[str, str]]) -> None:
    a, b, g = tenants["a"], tenants["b"], tenants["general"]
    with db_scope(Scope.business(a["business_id"])):
        for table in ("agent_sessions", "agent_messages", "tickets"):
            assert await _visible(owned_db, table) == {a["session_id"]}, table
        assert await _visible(owned_db, "memories") == {"a"}
        assert await _visible(owned_db, "agents") == {"a agent"}
    with db_scope(Scope.user("someone", b["business_id"])):
        assert await _visible(owned_db, "agent_messages") == {b["session_id"]}
        assert await _visible(owned_db, "memories") == {"b"}
    with db_scope(Scope.user("someone", None)):  # a general user's tenant
        assert await _visible(owned_db, "agent_sessions") == {g["session_id"]}
        assert await _visible(owned_db, "agent_messages") == {g["session_id"]}
        assert await _visible(owned_db, "tickets") == set()
        assert await _visible(owned_db, "memories") == {"g"}
        assert "g agent" in await _visible(owned_db, "agents")
        assert not {"a agent", "b agent"} & await _visible(owned_db, "agents")
    with db_scope(Scope.system()):
        assert await _visible(owned_db, "agent_sessions") == {
            a["session_id"], b["session_id"], g["session_id"]}
        assert await _visible(owned_db, "memories") == {"a", "b", "g"}
        assert {"a agent", "b agent", "g agent"} <= await _visible(owned_db, "agents")
    # nothing bound (and the pooled connection's last tenant does not linger)
    for table in TABLES:
        assert await _visible(owned_db, table) == set(), table


async def test_writes_into_another_tenant_are_refused(
        owned_db: async_sessionmaker[AsyncSession], tenants: dict[str, dict[str, str]]) -> None:
    a, b = tenants["a"], tenants["b"]
    with db_scope(Scope.business(a["business_id"])):
        refused = [
            ("INSERT INTO tickets (id, business_id, user_id, subject, body, priority, status, "
             "created_at, updated_at) VALUES (:id, :b, 'u', 's', 'b', 'normal', 'open', now(), "
             "now())", {"id": str(uuid.uuid4()), "b": b["business_id"]}),
            ("INSERT INTO agent_messages (session_id, role, content, created_at) "
             "VALUES (:sid, 'user', 'planted', now())", {"sid": b["session_id"]}),
            ("INSERT INTO memories (id, scope, user_id, category, key, value, created_at, "
             "updated_at) VALUES (:id, :b, 'u', 'FACT', 'k2', 'planted', now(), now())",
             {"id": str(uuid.uuid4()), "b": b["business_id"]}),
            ("UPDATE agent_sessions SET business_id = :b", {"b": b["business_id"]}),
            ("INSERT INTO agents (id, business_id, name, instructions, greeting, "
             "default_config, tools, is_default, created_at) VALUES (:id, :b, 'planted', "
             "'{}', '{}', '{}', '[]', false, now())",
             {"id": str(uuid.uuid4()), "b": b["business_id"]}),
        ]
        for sql, params in refused:
            async with owned_db() as s:
                with pytest.raises(DBAPIError, match="row-level security"):
                    await s.execute(text(sql), params)
        async with owned_db() as s:  # B's rows cannot even be touched
            gone = await s.execute(text("DELETE FROM agent_sessions WHERE session_id = :sid"),
                                   {"sid": b["session_id"]})
            assert gone.rowcount == 0  # type: ignore[attr-defined]
            await s.commit()
    with db_scope(Scope.system()):
        assert b["session_id"] in await _visible(owned_db, "agent_sessions")
        assert "planted" not in await _visible(owned_db, "memories")
