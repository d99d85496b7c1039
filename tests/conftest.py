"""Shared fixtures.

Integration tests take the ``runtime`` fixture, parametrized over backends:
``sqlite+memory`` always, ``postgres+redis`` when ``VOXA_TEST_POSTGRES_URL`` and
``VOXA_TEST_REDIS_URL`` are set (the README's test command sets them). Each
test gets a fresh PostgreSQL database cloned from a migrated template and its
own Redis key prefix, so tests never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.rooms import RecordingRooms
from voxa.agent.scripted_llm import ScriptedLLM
from voxa.api.app import create_app
from voxa.bench.common import Backend
from voxa.kv import create_store
from voxa.runtime import Runtime, open_runtime
from voxa.settings import Settings, build_settings
from voxa.storage.db import create_engine
from voxa.storage.migrate import migrate
from voxa.storage.scope import Scope
from voxa.storage.tenancy import bind_db_scope, reset_db_scope

PG_URL = os.environ.get("VOXA_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("VOXA_TEST_REDIS_URL")
LIVEKIT_TEST = {
    "livekit_url": "ws://127.0.0.1:1",
    "livekit_api_key": "testkey",
    "livekit_api_secret": "test-secret-that-is-long-enough-0123456789",
}

BACKENDS = [pytest.param("sqlite+memory", id="sqlite+memory")]
if PG_URL and REDIS_URL:
    BACKENDS.append(
        pytest.param(
            "postgres+redis", id="postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]
        )
    )
elif os.environ.get("CI"):
    raise RuntimeError("CI must run with VOXA_TEST_POSTGRES_URL and VOXA_TEST_REDIS_URL set")

# For modules whose live server (`voxa serve` in a subprocess) also runs on
# PostgreSQL + Redis: ``pytestmark = pytest.mark.parametrize("live_backend",
# LIVE_BACKENDS, indirect=True, scope="module")``.
LIVE_BACKENDS = BACKENDS

_TEMPLATE = "voxa_template"
# The role the application connects as in the PostgreSQL tests: neither a
# superuser nor BYPASSRLS, so row-level security (migration 0005) binds every
# query the tests make through the application.
APP_ROLE = "voxa_app"


async def _pg_admin(sql: str) -> None:
    assert PG_URL
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def create_app_role() -> None:
    await _pg_admin(f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '{APP_ROLE}';
        END IF; END $$""")


def app_url(database: str) -> str:
    """``database`` as the application's (non-superuser) role sees it."""
    assert PG_URL
    return (make_url(PG_URL).set(database=database, username=APP_ROLE, password=APP_ROLE)
            .render_as_string(hide_password=False))


@pytest.fixture(scope="session")
def pg_template() -> str | None:
    """Migrate a template database once; tests clone it (CREATE DATABASE … TEMPLATE)."""
    if not PG_URL:
        return None
    import asyncio

    async def build() -> None:
        await _pg_admin(f"DROP DATABASE IF EXISTS {_TEMPLATE}")
        await _pg_admin(f"CREATE DATABASE {_TEMPLATE}")
        url = make_url(PG_URL).set(database=_TEMPLATE).render_as_string(hide_password=False)
        engine = create_engine(url)
        await migrate(engine)
        await create_app_role()
        async with engine.begin() as conn:  # clones keep these grants
            await conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES "
                                    f"IN SCHEMA public TO {APP_ROLE}"))
            await conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public "
                                    f"TO {APP_ROLE}"))
        await engine.dispose()

    asyncio.run(build())
    return _TEMPLATE


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"env": "test", "data_dir": tmp_path / "data", **LIVEKIT_TEST}
    values.update(overrides)
    return build_settings(**values)


@pytest.fixture(params=BACKENDS)
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path, pg_template: str | None
) -> AsyncIterator[dict[str, str | None]]:
    """Database URL and Redis URL for one test on one backend pair."""
    if request.param == "sqlite+memory":
        yield {"database_url": None, "redis_url": None, "name": "sqlite+memory"}
        return
    db_name = f"voxa_t_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f"CREATE DATABASE {db_name} TEMPLATE {pg_template}")
    try:
        yield {"database_url": app_url(db_name), "redis_url": REDIS_URL,
               "name": "postgres+redis"}
    finally:
        await _pg_admin(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")


def _create_database_sync(pg_template: str | None) -> str:
    import asyncio

    name = f"voxa_live_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f"CREATE DATABASE {name} TEMPLATE {pg_template}"))
    return name


@pytest.fixture(scope="module")
def live_backend(request: pytest.FixtureRequest, pg_template: str | None) -> Iterator[Backend]:
    """The backend of a module's live server (`voxa serve` in a subprocess):
    SQLite unless the module parametrizes this fixture (indirectly) with
    ``LIVE_BACKENDS``; on PostgreSQL a fresh clone of the migrated template,
    reached as the application role, and the test Redis."""
    name = getattr(request, "param", "sqlite+memory")
    if name == "sqlite+memory":
        yield Backend("sqlite+memory", None, None)
        return
    import asyncio

    db_name = _create_database_sync(pg_template)
    try:
        yield Backend("postgres+redis", app_url(db_name), REDIS_URL)
    finally:
        asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))


@pytest.fixture
async def runtime(backend: dict[str, str | None], tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = make_settings(
        tmp_path, database_url=backend["database_url"], redis_url=backend["redis_url"]
    )
    store = create_store(settings.redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:")
    # LIVEKIT_TEST names no server: the lifecycle's room deletions are recorded
    rt = await open_runtime(settings, run_migrations=backend["database_url"] is None, store=store,
                            rooms=RecordingRooms())
    # The test's own direct reads and writes are the operator's (every tenant);
    # requests through the app bind their caller's tenant (DbScopeMiddleware).
    token = bind_db_scope(Scope.system())
    try:
        yield rt
    finally:
        reset_db_scope(token)
        await rt.aclose()


@pytest.fixture
def model() -> ScriptedLLM:
    """The LLM the ``client`` fixture's app uses; override in a test module to script it."""
    return ScriptedLLM()


@pytest.fixture
async def client(runtime: Runtime, model: ScriptedLLM) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime.settings, runtime=runtime, model=model)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://voxa.test") as c:
        yield c


NewClient = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def new_client(runtime: Runtime, model: ScriptedLLM) -> AsyncIterator[NewClient]:
    """Make clients of one app, each with its own cookie jar (one browser each):
    ``await new_client()`` (base URL ``http://voxa.test`` unless given)."""
    app = create_app(runtime.settings, runtime=runtime, model=model)
    async with AsyncExitStack() as stack:

        async def new(base_url: str = "http://voxa.test") -> httpx.AsyncClient:
            c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)
            return await stack.enter_async_context(c)

        yield new
