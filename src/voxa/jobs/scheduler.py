"""Periodic jobs inside ``voxa serve`` (the embedded setup): the cleanup job and
the webhook round. In production Celery's beat runs the same jobs
(``voxa.jobs.celery_app``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from voxa.jobs.cleanup import run_cleanup
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.webhooks.sender import run_due

log = get_logger(__name__)

Job = Callable[[Runtime], Awaitable[Any]]


class PeriodicJob:
    """Runs ``job`` every ``interval`` seconds until stopped; a failed run is
    logged and the schedule goes on."""

    def __init__(self, rt: Runtime, job: Job, *, interval: float, name: str) -> None:
        self._rt = rt
        self._job = job
        self._interval = interval
        self._name = name
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"voxa-{self._name}")

    async def _loop(self) -> None:
        while True:
            try:
                await self._job(self._rt)
            except Exception:  # a failed run must not stop the schedule
                log.exception("periodic_job_failed", job=self._name)
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def cleanup_schedule(rt: Runtime, *, interval: float) -> PeriodicJob:
    return PeriodicJob(rt, run_cleanup, interval=interval, name="cleanup")


def webhook_dispatcher(rt: Runtime, *, interval: float) -> PeriodicJob:
    """Sends due webhook deliveries (claimed per delivery, so any number of
    runners never send one twice)."""
    return PeriodicJob(rt, run_due, interval=interval, name="webhooks")
