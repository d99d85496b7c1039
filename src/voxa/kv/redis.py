"""Redis TTL store for distributed deployments."""

from __future__ import annotations

from redis.asyncio import Redis

from voxa.kv.base import TTLStore

_DELETE_IF_EQUALS = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


# Connections per process. redis-py's default pool raises MaxConnectionsError
# past 100, which under 200 concurrent turns (each with a lease, a waiting place
# and a model slot kept alive) made renewals fail and leases lapse.
MAX_CONNECTIONS = 1000


class RedisStore(TTLStore):
    def __init__(self, url: str, *, prefix: str = "") -> None:
        self._redis = Redis.from_url(url, decode_responses=True,
                                     max_connections=MAX_CONNECTIONS)
        self._prefix = prefix

    @property
    def prefix(self) -> str:
        return self._prefix

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._k(key))
        return None if value is None else str(value)

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        if ttl is not None and ttl <= 0:
            raise ValueError("ttl must be positive")
        px = None if ttl is None else max(1, int(ttl * 1000))
        await self._redis.set(self._k(key), value, px=px)

    async def set_if_absent(self, key: str, value: str, *, ttl: float) -> bool:
        return bool(await self._redis.set(self._k(key), value, px=max(1, int(ttl * 1000)), nx=True))

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self._redis.delete(*(self._k(k) for k in keys)))

    async def delete_if_equals(self, key: str, value: str) -> bool:
        result = await self._redis.eval(_DELETE_IF_EQUALS, 1, self._k(key), value)  # type: ignore[misc]
        return bool(result)

    async def ttl(self, key: str) -> float | None:
        ms = int(await self._redis.pttl(self._k(key)))
        return None if ms < 0 else ms / 1000

    async def exists(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self._redis.exists(*(self._k(k) for k in keys)))

    async def ping(self) -> None:
        await self._redis.ping()  # type: ignore[misc]

    async def aclose(self) -> None:
        await self._redis.aclose()
