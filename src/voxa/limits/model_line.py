"""The shared model's waiting line: a bound on model calls in flight or queued,
fair across businesses.

A call holds two slots while it runs: one of its tenant's ``per_business``
slots and one of the ``total``. Slots are keys in the TTL store (every backend,
so the bound holds across processes), taken with ``set_if_absent``, refreshed
while held and released with ``delete_if_equals``; a holder that dies frees its
slots when their TTL runs out. No slot free: ``503 model_busy`` at once, so a
tenant's flood is refused instead of queueing in front of everyone else.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable

from voxa.errors import Unavailable
from voxa.kv.base import TTLStore
from voxa.kv.keepalive import KeepAlive
from voxa.limits.keys import limit_key
from voxa.logs import get_logger

log = get_logger(__name__)

RETRY_AFTER_SECONDS = 2.0


class ModelSlot:
    """Two held slot keys, kept alive until :meth:`release`."""

    def __init__(self, store: TTLStore, keys: list[str], token: str, ttl: float) -> None:
        self._keepalive = KeepAlive(store, token, ttl, keys=keys, name="model-slot-refresh")

    async def release(self) -> None:
        await self._keepalive.release()


class ModelLine:
    def __init__(self, store: TTLStore, *, total: int, ttl: float,
                 on_refused: Callable[[str], None]) -> None:
        self._store = store
        self._on_refused = on_refused
        self._total = total
        self._ttl = ttl

    async def _take(self, name: str, tenant: str, size: int, token: str) -> str | None:
        start = random.randrange(size)  # spread takers over the slots
        for i in range(size):
            key = f"{limit_key(name, tenant)}:{(start + i) % size}"
            if await self._store.set_if_absent(key, token, ttl=self._ttl):
                return key
        return None

    async def acquire(self, tenant: str, *, per_tenant: int) -> ModelSlot:
        """A slot for one call of ``tenant`` (a business id, or a general user)."""
        token = secrets.token_hex(8)
        mine = await self._take("model_slot_tenant", tenant, per_tenant, token)
        if mine is None:
            self._on_refused("model_slots_per_business")
            raise Unavailable("this business has too many requests waiting on the model; "
                              "retry shortly", code="model_busy",
                              retry_after=RETRY_AFTER_SECONDS)
        shared = await self._take("model_slot_total", "all", self._total, token)
        if shared is None:
            await self._store.delete_if_equals(mine, token)
            self._on_refused("model_slots_total")
            raise Unavailable("the model is busy; retry shortly", code="model_busy",
                              retry_after=RETRY_AFTER_SECONDS)
        return ModelSlot(self._store, [mine, shared], token, self._ttl)
