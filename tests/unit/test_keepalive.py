"""KeepAlive: releasing held keys never depends on cancelling a store call."""

from __future__ import annotations

import asyncio

from voxa.kv.keepalive import KeepAlive
from voxa.kv.memory import MemoryStore


class CancelSwallowingStore(MemoryStore):
    """Behaves like redis-py 8 under load: a cancellation arriving inside a
    call comes out as an ordinary connection error, and every ``get`` is slow
    enough for a release to land inside one."""

    def __init__(self) -> None:
        super().__init__()
        self.in_get = asyncio.Event()
        self.gets = 0

    async def get(self, key: str) -> str | None:
        self.gets += 1
        self.in_get.set()
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError as exc:
            raise ConnectionError("Connection closed by server.") from exc
        return await super().get(key)


async def test_release_during_a_store_call_frees_the_keys_and_stops_renewing() -> None:
    store = CancelSwallowingStore()
    await store.set("lease", "me", ttl=0.3)
    keep = KeepAlive(store, "me", 0.3, keys=["lease"])
    await asyncio.wait_for(store.in_get.wait(), 10)  # a renewal round is in flight
    await asyncio.wait_for(keep.release(), 10)
    assert await MemoryStore.get(store, "lease") is None
    gets = store.gets
    # Nothing renews any more: the key can be taken again and stays the taker's.
    assert await store.set_if_absent("lease", "other", ttl=5)
    await asyncio.sleep(0.3)  # longer than a renewal period
    assert store.gets == gets
    assert await MemoryStore.get(store, "lease") == "other"


async def test_keys_are_renewed_while_held_and_only_while_still_ours() -> None:
    store = MemoryStore()
    await store.set("mine", "me", ttl=0.3)
    await store.set("lost", "someone-else", ttl=0.3)
    keep = KeepAlive(store, "me", 0.3, keys=["mine", "lost"])
    try:
        async def renewed() -> None:
            while True:
                left = await store.ttl("mine")
                if left is not None and await store.get("lost") is None:
                    return
                await asyncio.sleep(0.02)

        # "mine" keeps being extended past its first TTL; "lost" is left to expire.
        await asyncio.wait_for(renewed(), 10)
    finally:
        await keep.release()
    assert await store.get("mine") is None
