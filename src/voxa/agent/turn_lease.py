"""One text turn at a time per session, across every API process.

The session's turn is a lease in the shared store (``turn:{session}:lease``,
taken with ``set_if_absent``, renewed while the turn runs, released with
``delete_if_equals``); a holder that dies frees it when its few-second TTL runs
out. Turns waiting for the lease hold a place in the session's waiting line —
``turn_queue_limit + 1`` place keys, the holder's included — so the bound is
shared by all processes. Within one process a lock in front keeps waiters in
arrival order and off the store.

A lease can outlive its holder's belief in it (a stalled process); the
database's per-session turn number (``agent_sessions.turn_seq``) fences such a
turn out when it tries to store its reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from voxa.errors import Busy
from voxa.kv.base import TTLStore
from voxa.kv.keepalive import KeepAlive
from voxa.kv.keys import turn_lease_key, turn_place_key

POLL_SECONDS = (0.01, 0.1)  # first and longest wait between lease attempts


def _busy(message: str) -> Busy:
    return Busy(message, code="session_busy", retry_after=1)


@dataclass
class _LocalGate:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class TurnLeases:
    def __init__(self, store: TTLStore) -> None:
        self._store = store
        self._gates: dict[str, _LocalGate] = {}

    @contextlib.asynccontextmanager
    async def hold(self, session_id: str, *, queue_limit: int, wait_seconds: float,
                   lease_seconds: float) -> AsyncIterator[None]:
        """The session's turn, once every earlier one is done (``session_busy``
        when the line is full or the wait exceeds ``wait_seconds``)."""
        deadline = time.monotonic() + wait_seconds
        gate = self._gates.setdefault(session_id, _LocalGate())
        if gate.users > queue_limit:
            raise _busy("too many messages waiting on this session; retry shortly")
        gate.users += 1
        renewer = KeepAlive(self._store, secrets.token_hex(8), lease_seconds,
                            name=f"turn-lease-{session_id}")
        locked = False
        try:
            await self._take_place(session_id, renewer, queue_limit)
            try:
                await asyncio.wait_for(gate.lock.acquire(), max(0.0, deadline - time.monotonic()))
            except TimeoutError as exc:
                raise _busy("the previous message is still being answered; "
                            "retry shortly") from exc
            locked = True
            await self._take_lease(session_id, renewer, deadline)
            yield
        finally:
            try:
                # The lease goes before the local lock: this process's next
                # waiter then takes it at once instead of polling for it.
                await renewer.release()
            finally:
                if locked:
                    gate.lock.release()
                gate.users -= 1
                if gate.users == 0:
                    self._gates.pop(session_id, None)

    async def _take_place(self, session_id: str, renewer: KeepAlive, queue_limit: int) -> None:
        places = queue_limit + 1
        start = random.randrange(places)
        for i in range(places):
            key = turn_place_key(session_id, (start + i) % places)
            if await self._store.set_if_absent(key, renewer.token, ttl=renewer.ttl):
                renewer.keys.append(key)
                return
        raise _busy("too many messages waiting on this session; retry shortly")

    async def _take_lease(self, session_id: str, renewer: KeepAlive, deadline: float) -> None:
        key = turn_lease_key(session_id)
        pause = POLL_SECONDS[0]
        while not await self._store.set_if_absent(key, renewer.token, ttl=renewer.ttl):
            left = deadline - time.monotonic()
            if left <= 0:
                raise _busy("the previous message is still being answered; retry shortly")
            await asyncio.sleep(min(left, pause * random.uniform(0.5, 1.0)))
            pause = min(POLL_SECONDS[1], pause * 2)
        renewer.keys.append(key)
