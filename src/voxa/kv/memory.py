"""In-process TTL store: the embedded default. Single event loop, no locking
needed; expired keys are dropped lazily on access and by a periodic sweep."""

from __future__ import annotations

import time

from voxa.kv.base import TTLStore


class MemoryStore(TTLStore):
    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._writes = 0

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    def _live(self, key: str) -> tuple[str, float | None] | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= self._now():
            del self._data[key]
            return None
        return item

    def _sweep(self) -> None:
        # Amortised cleanup so keys nobody reads again do not accumulate.
        self._writes += 1
        if self._writes % 1024:
            return
        now = self._now()
        for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
            del self._data[key]

    async def get(self, key: str) -> str | None:
        item = self._live(key)
        return None if item is None else item[0]

    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        if ttl is not None and ttl <= 0:
            raise ValueError("ttl must be positive")
        self._data[key] = (value, None if ttl is None else self._now() + ttl)
        self._sweep()

    async def set_if_absent(self, key: str, value: str, *, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl=ttl)
        return True

    async def delete(self, *keys: str) -> int:
        count = 0
        for key in keys:
            if self._live(key) is not None:
                count += 1
            self._data.pop(key, None)
        return count

    async def delete_if_equals(self, key: str, value: str) -> bool:
        item = self._live(key)
        if item is None or item[0] != value:
            return False
        del self._data[key]
        return True

    async def ttl(self, key: str) -> float | None:
        item = self._live(key)
        if item is None or item[1] is None:
            return None
        return max(0.0, item[1] - self._now())

    async def exists(self, *keys: str) -> int:
        return sum(1 for k in keys if self._live(k) is not None)

    async def ping(self) -> None:
        return None

    def __len__(self) -> int:
        return sum(1 for k in list(self._data) if self._live(k) is not None)
