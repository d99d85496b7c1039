"""TTL store on the SQL database: lets several processes on one machine (the
API and voice job processes in the embedded setup) share short-lived state
without Redis. Expiry uses wall-clock time, which all those processes share."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from voxa.kv.base import TTLStore
from voxa.storage.models import KVEntry


class SqlStore(TTLStore):
    def __init__(self, engine: AsyncEngine, *, prefix: str = "", own_engine: bool = True) -> None:
        self._engine = engine
        self._db = async_sessionmaker(engine, expire_on_commit=False)
        self._prefix = prefix
        self._own_engine = own_engine
        self._writes = 0

    def _k(self, key: str) -> str:
        return self._prefix + key

    @staticmethod
    def _live(now: float):  # type: ignore[no-untyped-def]
        return (KVEntry.expires_at.is_(None)) | (KVEntry.expires_at > now)

    def _insert(self) -> Any:
        return pg_insert(KVEntry) if self._engine.dialect.name == "postgresql" else sqlite_insert(
            KVEntry)

    async def get(self, key: str) -> str | None:
        async with self._db() as db:
            return (await db.execute(select(KVEntry.value).where(
                KVEntry.key == self._k(key), self._live(time.time())))).scalar_one_or_none()

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        if ttl is not None and ttl <= 0:
            raise ValueError("ttl must be positive")
        expires = None if ttl is None else time.time() + ttl
        stmt = self._insert().values(key=self._k(key), value=value, expires_at=expires)
        stmt = stmt.on_conflict_do_update(index_elements=["key"],
                                          set_={"value": value, "expires_at": expires})
        async with self._db() as db:
            await db.execute(stmt)
            await self._sweep(db)
            await db.commit()

    async def _sweep(self, db) -> None:  # type: ignore[no-untyped-def]
        self._writes += 1
        if self._writes % 256 == 0:
            await db.execute(delete(KVEntry).where(KVEntry.expires_at <= time.time()))

    async def set_if_absent(self, key: str, value: str, *, ttl: float) -> bool:
        now = time.time()
        async with self._db() as db:
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
        async with self._db() as db:
            live = await db.scalar(select(func.count()).select_from(KVEntry).where(
                KVEntry.key.in_(full), self._live(now)))
            await db.execute(delete(KVEntry).where(KVEntry.key.in_(full)))
            await db.commit()
            return int(live or 0)

    async def delete_if_equals(self, key: str, value: str) -> bool:
        async with self._db() as db:
            result = await db.execute(delete(KVEntry).where(
                KVEntry.key == self._k(key), KVEntry.value == value,
                self._live(time.time())))
            await db.commit()
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def ttl(self, key: str) -> float | None:
        async with self._db() as db:
            expires = (await db.execute(select(KVEntry.expires_at).where(
                KVEntry.key == self._k(key), self._live(time.time())))).scalar_one_or_none()
        return None if expires is None else max(0.0, expires - time.time())

    async def exists(self, *keys: str) -> int:
        if not keys:
            return 0
        async with self._db() as db:
            n = await db.scalar(select(func.count()).select_from(KVEntry).where(
                KVEntry.key.in_([self._k(k) for k in keys]), self._live(time.time())))
        return int(n or 0)

    async def ping(self) -> None:
        async with self._db() as db:
            await db.execute(select(1))

    async def aclose(self) -> None:
        if self._own_engine:
            await self._engine.dispose()


__all__ = ["SqlStore"]
