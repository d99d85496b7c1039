"""Rate limits on the `limits` library: moving windows kept in Redis when the
deployment has one (shared by every API replica), in process memory otherwise
(``voxa serve`` runs one API process)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from voxa.errors import RateLimited
from voxa.limits import catalog
from voxa.limits.keys import limit_key
from voxa.settings import Settings

OnRefused = Callable[[str], None]


def open_storage(redis_url: str | None, *, prefix: str = "") -> Storage:
    if not redis_url:
        return MemoryStorage()
    return RedisStorage(f"async+{redis_url}", implementation="redispy",
                        key_prefix=f"{prefix}voxa-limits")


class Limiter:
    def __init__(self, settings: Settings, storage: Storage, *, on_refused: OnRefused) -> None:
        self.settings = settings
        self._storage = storage
        self._windows = MovingWindowRateLimiter(storage)
        self._on_refused = on_refused

    def refused(self, name: str) -> None:
        """Count a refusal by limit name (the metric)."""
        self._on_refused(name)

    def rate(self, name: str, overrides: Mapping[str, Any] | None = None
             ) -> list[RateLimitItem]:
        return catalog.rate(self.settings, name, overrides)

    async def _retry_after(self, items: Sequence[RateLimitItem], key: str) -> float:
        waits = [1.0]
        for item in items:
            if not await self._windows.test(item, key):
                stats = await self._windows.get_window_stats(item, key)
                waits.append(stats.reset_time - time.time())
        return max(waits)

    async def try_hit(self, name: str, *parts: str,
                      overrides: Mapping[str, Any] | None = None) -> float | None:
        """Count one request; ``None`` if allowed, else seconds until one would be.
        A refused request counts against nothing."""
        items = self.rate(name, overrides)
        key = limit_key(name, *parts)
        for item in items:
            if not await self._windows.test(item, key):
                return await self._refused(name, items, key)
        for item in items:
            if not await self._windows.hit(item, key):
                return await self._refused(name, items, key)
        return None

    async def _refused(self, name: str, items: Sequence[RateLimitItem], key: str) -> float:
        self.refused(name)
        return await self._retry_after(items, key)

    async def hit(self, name: str, *parts: str, overrides: Mapping[str, Any] | None = None,
                  message: str = "too many requests; retry later") -> None:
        """Count one request or raise :class:`RateLimited` (429 + Retry-After)."""
        wait = await self.try_hit(name, *parts, overrides=overrides)
        if wait is not None:
            raise RateLimited(message, retry_after=wait, code="rate_limited")

    async def check(self, name: str, *parts: str, message: str) -> None:
        """Raise if ``name`` is exhausted for ``parts``, without counting."""
        items = self.rate(name)
        key = limit_key(name, *parts)
        for item in items:
            if not await self._windows.test(item, key):
                wait = await self._refused(name, items, key)
                raise RateLimited(message, retry_after=wait, code="rate_limited")

    async def record(self, name: str, *parts: str) -> None:
        """Count an event (e.g. a failed login) against every tier of ``name``."""
        key = limit_key(name, *parts)
        for item in self.rate(name):
            await self._windows.hit(item, key)

    async def clear(self, name: str, *parts: str) -> None:
        key = limit_key(name, *parts)
        for item in self.rate(name):
            await self._windows.clear(item, key)

    async def aclose(self) -> None:
        # The library's Redis storage has no close of its own; its redis-py
        # client (behind the bridge) holds the connections.
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()
        # The memory storage prunes expired windows in a task of its own.
        timer = getattr(self._storage, "timer", None)
        if isinstance(timer, asyncio.Task) and not timer.done():
            timer.cancel()
