"""TTL store on the SQL database: lets several processes on one machine (the
API and voice job processes in the embedded setup) share short-lived state
without Redis. Expiry uses wall-clock time, which all those processes share."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.schema import CreateIndex, CreateTable

from voxa.kv.base import TTLStore
from voxa.storage.db import create_engine
from voxa.storage.models import KVEntry


class SqlStore(TTLStore):
    def __init__(self, engine: AsyncEngine, *, prefix: str = "", own_engine: bool = True,
                 create_table: bool = False) -> None:
        self._engine = engine
        self._table_ready = not create_table
        self._db = async_sessionmaker(engine, expire_on_commit=False)
        self._prefix = prefix
        self._own_engine = own_engine
        self._writes = 0

    @classmethod
    def connect(cls, database_url: str, *, prefix: str = "") -> SqlStore:
        """The store for a database URL. On a SQLite file it lives in a file
        of its own beside the database (``voxa.db`` → ``voxa.kv.db``): SQLite
        has one write lock per file, and a request holding a storage
        transaction (so that lock) may call the store while a store write in
        the same process waits for the lock, holding the store's connection:
        neither would move. On PostgreSQL it is the migrated ``kv_entries``."""
        url = make_url(database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return cls(create_engine(database_url), prefix=prefix)
        path = Path(str(url.database))
        kv_url = url.set(database=str(path.with_name(f"{path.stem}.kv{path.suffix or '.db'}")))
        # Deferred transactions: reads never wait for the lock (WAL), and each
        # write transaction here starts with its write.
        return cls(create_engine(kv_url.render_as_string(hide_password=False),
                                 begin_immediate=False), prefix=prefix, create_table=True)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        if not self._table_ready:
            # Idempotent DDL: every process sharing the file may run it.
            async with self._engine.begin() as conn:
                table = cast(Table, KVEntry.__table__)
                await conn.execute(CreateTable(table, if_not_exists=True))
                for index in table.indexes:
                    await conn.execute(CreateIndex(index, if_not_exists=True))
            self._table_ready = True
        async with self._db() as db:
            yield db

    def _k(self, key: str) -> str:
        return self._prefix + key

    @staticmethod
    def _live(now: float):  # type: ignore[no-untyped-def]
        return (KVEntry.expires_at.is_(None)) | (KVEntry.expires_at > now)

    def _insert(self) -> Any:
        return pg_insert(KVEntry) if self._engine.dialect.name == "postgresql" else sqlite_insert(
            KVEntry)

    async def get(self, key: str) -> str | None:
        async with self._session() as db:
            return (await db.execute(select(KVEntry.value).where(
                KVEntry.key == self._k(key), self._live(time.time())))).scalar_one_or_none()

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        if ttl is not None and ttl <= 0:
            raise ValueError("ttl must be positive")
        expires = None if ttl is None else time.time() + ttl
        stmt = self._insert().values(key=self._k(key), value=value, expires_at=expires)
        stmt = stmt.on_conflict_do_update(index_elements=["key"],
                                          set_={"value": value, "expires_at": expires})
        async with self._session() as db:
            await db.execute(stmt)
            await self._sweep(db)
            await db.commit()

    async def _sweep(self, db) -> None:  # type: ignore[no-untyped-def]
        self._writes += 1
        if self._writes % 256 == 0:
            await db.execute(delete(KVEntry).where(KVEntry.expires_at <= time.time()))

    async def set_if_absent(self, key: str, value: str, *, ttl: float) -> bool:
        now = time.time()
        async with self._session() as db:
            await db.execute(delete(KVEntry).where(KVEntry.key == self._k(key),
                                                   KVEntry.expires_at <= now))
            stmt = self._insert().values(key=self._k(key), value=value, expires_at=now + ttl)
            result = await db.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
            await db.commit()
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        now = time.time()
        full = [self._k(k) for k in keys]
        async with self._session() as db:
            # Writes first (on SQLite a deferred transaction that read before
            # writing could not wait for the write lock): the live rows' count
            # is the first delete's row count.
            live = await db.execute(delete(KVEntry).where(KVEntry.key.in_(full),
                                                          self._live(now)))
            await db.execute(delete(KVEntry).where(KVEntry.key.in_(full)))
            await db.commit()
            return int(live.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_if_equals(self, key: str, value: str) -> bool:
        async with self._session() as db:
            result = await db.execute(delete(KVEntry).where(
                KVEntry.key == self._k(key), KVEntry.value == value,
                self._live(time.time())))
            await db.commit()
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def ttl(self, key: str) -> float | None:
        async with self._session() as db:
            expires = (await db.execute(select(KVEntry.expires_at).where(
                KVEntry.key == self._k(key), self._live(time.time())))).scalar_one_or_none()
        return None if expires is None else max(0.0, expires - time.time())

    async def exists(self, *keys: str) -> int:
        if not keys:
            return 0
        async with self._session() as db:
            n = await db.scalar(select(func.count()).select_from(KVEntry).where(
                KVEntry.key.in_([self._k(k) for k in keys]), self._live(time.time())))
        return int(n or 0)

    async def ping(self) -> None:
        async with self._session() as db:
            await db.execute(select(1))

    async def aclose(self) -> None:
        if self._own_engine:
            await self._engine.dispose()


__all__ = ["SqlStore"]
