"""Graceful drain of a voice worker (SIGTERM): tell LiveKit it takes no more
jobs, let the calls in progress end on their own, bounded by
``worker_drain_seconds``; a second signal stops waiting. Orchestrators send
SIGTERM before they stop a worker (a rolling update, a scale-down), so a call
is not cut off because its worker is being replaced."""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

from livekit.agents import AgentServer

from voxa.logs import get_logger

log = get_logger(__name__)


@contextlib.contextmanager
def second_signal_sets(event: asyncio.Event) -> Iterator[None]:
    """While inside, SIGINT or SIGTERM sets ``event`` (the server that received
    the first signal is already shutting down; a second one means "stop
    waiting"); the previous handlers (uvicorn's) are restored after. Outside
    the main thread, where no handler can be installed, only the drain's own
    bound applies."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()

    def handler(_sig: int, _frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(event.set)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


async def drain(server: AgentServer, *, seconds: float, again: asyncio.Event) -> bool:
    """Wait for the worker's calls to end (True) or for the bound or a second
    signal (False). The caller closes the server afterwards either way."""
    started = time.monotonic()
    log.info("worker_draining", jobs=len(server.active_jobs), timeout_s=seconds)
    draining = asyncio.create_task(server.drain(timeout=math.ceil(seconds)))
    interrupted = asyncio.create_task(again.wait())
    try:
        await asyncio.wait({draining, interrupted}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        interrupted.cancel()
    drained = draining.done() and draining.exception() is None
    if not draining.done():
        draining.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await draining
    elif draining.exception() is not None and not isinstance(draining.exception(),
                                                             TimeoutError):
        log.error("worker_drain_failed", error=repr(draining.exception()))
    log.info("worker_drained", complete=drained, left=len(server.active_jobs),
             seconds=round(time.monotonic() - started, 2))
    return drained
