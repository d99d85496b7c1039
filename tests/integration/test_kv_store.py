"""One suite, both TTL store backends (memory always, Redis when configured)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import PG_URL, REDIS_URL
from voxa.kv.base import TTLStore
from voxa.kv.memory import MemoryStore
from voxa.kv.sql import SqlStore
from voxa.storage.db import create_engine
from voxa.storage.migrate import migrate

STORES = [pytest.param("memory", id="memory"), pytest.param("sql-sqlite", id="sql-sqlite")]
if REDIS_URL:
    STORES.append(pytest.param("redis", id="redis", marks=pytest.mark.redis))
if PG_URL:
    STORES.append(pytest.param("sql-postgres", id="sql-postgres", marks=pytest.mark.postgres))


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path,
                pg_template: str | None) -> AsyncIterator[TTLStore]:
    if request.param == "memory":
        s: TTLStore = MemoryStore()
    elif request.param.startswith("sql"):
        if request.param == "sql-sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / 'kv.db'}"
        else:
            assert PG_URL
            url = PG_URL
        engine = create_engine(url)
        await migrate(engine)
        await engine.dispose()
        s = SqlStore.connect(url, prefix=f"kvtest-{uuid.uuid4().hex[:8]}:")
    else:
        from voxa.kv.redis import RedisStore

        assert REDIS_URL
        s = RedisStore(REDIS_URL, prefix=f"kvtest-{uuid.uuid4().hex[:8]}:")
    yield s
    await s.aclose()


async def test_set_get_delete(store: TTLStore) -> None:
    assert await store.get("a") is None
    await store.set("a", "1")
    assert await store.get("a") == "1"
    assert await store.ttl("a") is None
    await store.set("a", "2")
    assert await store.get("a") == "2"
    assert await store.delete("a", "missing") == 1
    assert await store.get("a") is None
    assert await store.delete() == 0


async def gone(store: TTLStore, key: str, within: float = 15) -> bool:
    """Wait (generously: the machine may be loaded) until ``key`` has expired."""
    deadline = asyncio.get_running_loop().time() + within
    while await store.exists(key):
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_ttl_expiry(store: TTLStore) -> None:
    await store.set("t", "v", ttl=2)
    left = await store.ttl("t")
    assert left is not None and 0 < left <= 2
    assert await store.exists("t") == 1
    assert await gone(store, "t")
    assert await store.get("t") is None
    assert await store.exists("t") == 0
    assert await store.ttl("t") is None


async def test_set_replaces_ttl(store: TTLStore) -> None:
    await store.set("k", "v", ttl=1)
    await store.set("witness", "v", ttl=1)
    await store.set("k", "w")
    # once a key set with the same TTL at the same moment is gone, the first
    # TTL is past: the second set (no TTL) kept the key
    assert await gone(store, "witness")
    assert await store.get("k") == "w"


async def test_rejects_non_positive_ttl(store: TTLStore) -> None:
    with pytest.raises(ValueError):
        await store.set("k", "v", ttl=0)
    assert await store.get("k") is None


async def test_set_if_absent_is_a_lock(store: TTLStore) -> None:
    results = await asyncio.gather(
        *(store.set_if_absent("lock", f"o{i}", ttl=5) for i in range(20))
    )
    assert sum(results) == 1
    holder = await store.get("lock")
    assert holder is not None
    assert not await store.delete_if_equals("lock", "someone-else")
    assert await store.get("lock") == holder
    assert await store.delete_if_equals("lock", holder)
    assert await store.set_if_absent("lock", "next", ttl=2)
    assert not await store.set_if_absent("lock", "too-early", ttl=5)
    assert await gone(store, "lock")
    assert await store.set_if_absent("lock", "after-expiry", ttl=5)


async def test_exists_counts_and_ping(store: TTLStore) -> None:
    await store.set("x", "1")
    await store.set("y", "1", ttl=10)
    assert await store.exists("x", "y", "z") == 2
    await store.ping()


async def test_unicode_and_large_values(store: TTLStore) -> None:
    value = "héllo ✓ " * 10_000
    await store.set("u", value, ttl=10)
    assert await store.get("u") == value


async def test_sqlite_store_reads_while_a_storage_transaction_writes(tmp_path: Path) -> None:
    """A request holding a storage write transaction may read the store on
    the same SQLite file: the read does not queue behind the write lock (it
    once did, and with one connection per engine two requests deadlocked)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    storage = create_engine(url)
    await migrate(storage)
    store = SqlStore.connect(url, prefix="shared:")
    try:
        await store.set("k", "v")
        async with storage.connect() as conn:
            await conn.execute(text("DELETE FROM kv_entries WHERE key = 'none'"))  # write lock
            assert await asyncio.wait_for(store.get("k"), 10) == "v"
            assert await asyncio.wait_for(store.exists("k"), 10) == 1
            await conn.commit()
    finally:
        await store.aclose()
        await storage.dispose()
