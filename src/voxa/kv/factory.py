from __future__ import annotations

from voxa.kv.base import TTLStore


def create_store(redis_url: str | None, *, prefix: str = "", kind: str = "memory",
                 database_url: str | None = None) -> TTLStore:
    """Redis when a URL is configured; otherwise ``kind``: the in-process store
    (``memory``) or the SQL-backed one (``sql``, shared by processes on one machine)."""
    if redis_url:
        from voxa.kv.redis import RedisStore

        return RedisStore(redis_url, prefix=prefix)
    if kind == "sql":
        if not database_url:
            raise ValueError("the sql store needs a database URL")
        from voxa.kv.sql import SqlStore

        return SqlStore.connect(database_url, prefix=prefix)
    if kind != "memory":
        raise ValueError(f"unknown store kind {kind!r}: memory | sql (or set VOXA_REDIS_URL)")
    from voxa.kv.memory import MemoryStore

    return MemoryStore()
