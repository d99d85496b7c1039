"""Closed-loop and paced HTTP load from one process, bounded in count and time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


async def closed_loop(op: Callable[[int], Awaitable[None]], *, concurrency: int, total: int,
                      max_seconds: float = 30.0) -> LoadResult:
    """``concurrency`` workers run ``op(i)`` back to back until ``total`` ops or time is up."""
    result = LoadResult()
    counter = iter(range(total))
    deadline = time.perf_counter() + max_seconds

    async def worker() -> None:
        for i in counter:
            if time.perf_counter() > deadline:
                return
            t0 = time.perf_counter()
            try:
                await op(i)
                result.latencies.append(time.perf_counter() - t0)
            except Exception:
                result.errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - start
    return result


async def paced(op: Callable[[int, int], Awaitable[None]], *, actors: int, each: int,
                interval: float) -> LoadResult:
    """``actors`` run ``op(actor, k)`` ``each`` times, one every ``interval`` seconds,
    starting staggered: latency at a steady offered load, without queueing behind
    a saturated server."""
    result = LoadResult()

    async def actor(a: int) -> None:
        await asyncio.sleep(interval * a / actors)
        for k in range(each):
            t0 = time.perf_counter()
            try:
                await op(a, k)
                result.latencies.append(time.perf_counter() - t0)
            except Exception:
                result.errors += 1
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - t0)))

    start = time.perf_counter()
    await asyncio.gather(*(actor(a) for a in range(actors)))
    result.elapsed = time.perf_counter() - start
    return result
