"""Keeps held keys (leases, slots) alive in a TTL store until stopped.

Stopping never cancels the task while it is inside a store call: the Redis
client (redis-py 8 asyncio) can turn a cancellation that arrives mid-command
into an ordinary connection error, after which a ``while True`` renewer would
keep running — and keep renewing the lease it was meant to give back — with
its stopper waiting on it forever. The renewer instead waits on an event
between rounds and exits at the next check; a round in flight finishes (or
fails) first.
"""

from __future__ import annotations

import asyncio
import contextlib

from voxa.kv.base import TTLStore
from voxa.logs import get_logger

log = get_logger(__name__)


class KeepAlive:
    """Extends ``keys`` (while they still hold ``token``) every third of ``ttl``;
    :meth:`release` stops that and deletes the keys still ours."""

    def __init__(self, store: TTLStore, token: str, ttl: float, *,
                 keys: list[str] | None = None, name: str = "keepalive") -> None:
        self._store = store
        self.token = token
        self.ttl = ttl
        self.keys: list[str] = list(keys or [])
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=name)

    async def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.ttl / 3)
            if self._stop.is_set():
                return
            try:
                for key in list(self.keys):
                    # Only a key still ours is extended: after a stall past its
                    # TTL another process may hold it.
                    if await self._store.get(key) == self.token:
                        await self._store.set(key, self.token, ttl=self.ttl)
            except Exception:  # a store hiccup: the next round retries; TTLs bound the damage
                log.warning("keepalive_renew_failed", task=self._task.get_name(),
                            exc_info=True)

    async def stop(self) -> None:
        """Stop renewing (waits for a round in flight, never cancels it)."""
        self._stop.set()
        await asyncio.shield(self._task)

    async def release(self) -> None:
        """Stop renewing and delete every key still holding our token."""
        try:
            await self.stop()
        finally:
            for key in self.keys:
                await self._store.delete_if_equals(key, self.token)
