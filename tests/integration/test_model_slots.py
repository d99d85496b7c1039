"""Model-line slots on the TTL store itself (every backend): the per-business
and total bounds, release, and a crashed holder's slots freed by their TTL."""

from __future__ import annotations

import asyncio

import pytest

from voxa.errors import Unavailable
from voxa.limits import ModelLine, ModelSlot
from voxa.runtime import Runtime


def line(rt: Runtime, *, total: int, ttl: float = 30) -> ModelLine:
    refused: list[str] = []
    return ModelLine(rt.store, total=total, ttl=ttl, on_refused=refused.append)


async def test_per_business_share_and_total(runtime: Runtime) -> None:
    model = line(runtime, total=3)
    a = [await model.acquire("biz-a", per_tenant=2) for _ in range(2)]
    with pytest.raises(Unavailable) as refused:
        await model.acquire("biz-a", per_tenant=2)
    assert refused.value.code == "model_busy" and refused.value.retry_after
    b = await model.acquire("biz-b", per_tenant=2)  # A's flood leaves B its share
    with pytest.raises(Unavailable):
        await model.acquire("biz-c", per_tenant=2)  # the total is used up
    await a[0].release()
    c = await model.acquire("biz-c", per_tenant=2)
    for slot in (a[1], b, c):
        await slot.release()
    again = [await model.acquire("biz-a", per_tenant=2) for _ in range(2)]
    for slot in again:
        await slot.release()


async def test_a_refused_total_returns_the_business_slot(runtime: Runtime) -> None:
    model = line(runtime, total=1)
    held = await model.acquire("biz-a", per_tenant=1)
    with pytest.raises(Unavailable):
        await model.acquire("biz-b", per_tenant=1)
    await held.release()
    b = await model.acquire("biz-b", per_tenant=1)  # the refusal leaked no slot of B's
    await b.release()


async def test_a_crashed_holders_slots_expire(runtime: Runtime) -> None:
    model = line(runtime, total=1, ttl=2)
    crashed = await model.acquire("biz-a", per_tenant=1)
    # A process that dies stops refreshing (and never releases): simulate by
    # stopping the refresher alone.
    await crashed._keepalive.stop()
    with pytest.raises(Unavailable):
        await model.acquire("biz-a", per_tenant=1)
    deadline = asyncio.get_running_loop().time() + 10
    taken: ModelSlot | None = None
    while taken is None:
        try:
            taken = await model.acquire("biz-a", per_tenant=1)
        except Unavailable:
            assert asyncio.get_running_loop().time() < deadline, "slots never expired"
            await asyncio.sleep(0.05)
    await taken.release()


async def test_a_live_holder_keeps_its_slot_past_the_ttl(runtime: Runtime) -> None:
    model = line(runtime, total=1, ttl=2)
    held = await model.acquire("biz-a", per_tenant=1)
    # two TTLs pass (a witness key with twice the TTL expires): only the
    # holder's refresh keeps its slot
    await runtime.store.set("witness", "1", ttl=4)
    deadline = asyncio.get_running_loop().time() + 30
    while await runtime.store.exists("witness"):
        assert asyncio.get_running_loop().time() < deadline, "the witness never expired"
        await asyncio.sleep(0.1)
    with pytest.raises(Unavailable):
        await model.acquire("biz-a", per_tenant=1)
    await held.release()
    await (await model.acquire("biz-a", per_tenant=1)).release()
