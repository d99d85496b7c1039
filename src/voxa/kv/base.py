"""The TTL store interface. Both backends pass the same test suite."""

from __future__ import annotations

import abc


class TTLStore(abc.ABC):
    """String keys to string values, each with an optional time to live."""

    @property
    def prefix(self) -> str:
        """What this store puts before every key in a shared backend ("" if none)."""
        return ""

    @abc.abstractmethod
    async def get(self, key: str) -> str | None: ...

    @abc.abstractmethod
    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        """Store ``value``; ``ttl`` in seconds (``None`` keeps it until deleted)."""

    @abc.abstractmethod
    async def set_if_absent(self, key: str, value: str, *, ttl: float) -> bool:
        """Atomically store ``value`` only if ``key`` is absent; True if stored."""

    @abc.abstractmethod
    async def delete(self, *keys: str) -> int:
        """Delete keys; returns how many existed."""

    @abc.abstractmethod
    async def delete_if_equals(self, key: str, value: str) -> bool:
        """Atomically delete ``key`` only while it holds ``value`` (lock release)."""

    @abc.abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Seconds left, ``None`` when the key is absent or has no expiry."""

    @abc.abstractmethod
    async def exists(self, *keys: str) -> int: ...

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise if the store cannot be reached."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
