"""Sends due webhook deliveries inside ``voxa serve`` (embedded setup); Celery's
beat runs the same round in production (``voxa.jobs.celery_app``)."""

from __future__ import annotations

import asyncio
import contextlib

from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.webhooks.sender import run_due

log = get_logger(__name__)


class WebhookDispatcher:
    def __init__(self, rt: Runtime, *, interval: float) -> None:
        self._rt = rt
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="voxa-webhooks")

    async def _loop(self) -> None:
        while True:
            try:
                await run_due(self._rt)
            except Exception:  # a failed round must not stop deliveries for good
                log.exception("webhook_round_failed")
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
