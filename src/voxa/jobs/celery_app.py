"""Celery app for distributed deployments: the cleanup job as a beat-scheduled
task, Redis as broker. Built from settings by :func:`make_celery`.

``voxa jobs`` runs a worker with beat; any number of those may run: the
job's own lock and conditional updates keep runs from double-processing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from celery import Celery

from voxa.jobs.cleanup import run_cleanup
from voxa.runtime import open_runtime
from voxa.settings import Settings
from voxa.webhooks.sender import run_due

CLEANUP_TASK = "voxa.cleanup"
WEBHOOKS_TASK = "voxa.webhooks"


def make_celery(settings: Settings) -> Celery:
    if not settings.redis_url:
        raise ValueError("Celery needs VOXA_REDIS_URL as its broker")
    app = Celery("voxa", broker=settings.redis_url, backend=settings.redis_url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        result_expires=3600,
        beat_schedule={
            "voxa-cleanup": {"task": CLEANUP_TASK, "schedule": settings.cleanup_interval_seconds},
            # claimed rows: overlapping rounds on several workers never send twice
            "voxa-webhooks": {"task": WEBHOOKS_TASK, "schedule": settings.webhooks_poll_seconds},
        },
    )

    async def _cleanup() -> dict[str, Any]:
        rt = await open_runtime(settings, run_migrations=False)
        try:
            return (await run_cleanup(rt)).as_dict()
        finally:
            await rt.aclose()

    @app.task(name=CLEANUP_TASK)  # type: ignore[untyped-decorator]
    def cleanup_task() -> dict[str, Any]:
        return asyncio.run(_cleanup())

    async def _webhooks() -> dict[str, int]:
        rt = await open_runtime(settings, run_migrations=False)
        try:
            return await run_due(rt)
        finally:
            await rt.aclose()

    @app.task(name=WEBHOOKS_TASK)  # type: ignore[untyped-decorator]
    def webhooks_task() -> dict[str, int]:
        return asyncio.run(_webhooks())

    return app
