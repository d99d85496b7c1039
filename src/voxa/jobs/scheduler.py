"""Runs the cleanup job periodically inside ``voxa serve`` (embedded setup).

With several API processes (``voxa serve --workers N``, or replicas sharing a
store) each runs this schedule, but each tick is claimed in the shared store
(``set_if_absent``), so the job runs once per interval, not once per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from voxa.jobs.cleanup import run_cleanup
from voxa.logs import get_logger
from voxa.runtime import Runtime

log = get_logger(__name__)

TICK_KEY = "jobs:cleanup:tick"


class CleanupScheduler:
    def __init__(self, rt: Runtime, *, interval: float) -> None:
        self._rt = rt
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="voxa-cleanup")

    async def _claim_tick(self) -> bool:
        # Expires before the next tick, so some process always claims that one.
        return await self._rt.store.set_if_absent(TICK_KEY, str(os.getpid()),
                                                  ttl=self._interval * 0.9)

    async def _loop(self) -> None:
        while True:
            try:
                if await self._claim_tick():
                    await run_cleanup(self._rt)
            except Exception:  # a failed run must not stop the schedule
                log.exception("cleanup_failed")
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
