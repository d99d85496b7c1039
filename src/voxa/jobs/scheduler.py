"""Runs the cleanup job periodically inside ``voxa serve`` (embedded setup)."""

from __future__ import annotations

import asyncio
import contextlib

from voxa.jobs.cleanup import run_cleanup
from voxa.logs import get_logger
from voxa.runtime import Runtime

log = get_logger(__name__)


class CleanupScheduler:
    def __init__(self, rt: Runtime, *, interval: float) -> None:
        self._rt = rt
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="voxa-cleanup")

    async def _loop(self) -> None:
        while True:
            try:
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
