from __future__ import annotations

from voxa.kv.base import TTLStore


def create_store(redis_url: str | None, *, prefix: str = "") -> TTLStore:
    """Redis when a URL is configured, otherwise the in-process store."""
    if redis_url:
        from voxa.kv.redis import RedisStore

        return RedisStore(redis_url, prefix=prefix)
    from voxa.kv.memory import MemoryStore

    return MemoryStore()
