"""The FastAPI application, built by :func:`create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from voxa.api.errors import install_error_handlers
from voxa.api.middleware import AccessLogMiddleware, BodyLimitMiddleware
from voxa.api.routes import accounts, businesses, health, sessions, voices
from voxa.jobs.scheduler import CleanupScheduler
from voxa.metrics import Metrics
from voxa.runtime import Runtime, open_runtime
from voxa.settings import Settings


def create_app(
    settings: Settings, *, runtime: Runtime | None = None, run_scheduler: bool = False
) -> FastAPI:
    """Build the app. With ``runtime`` the caller owns it (tests); otherwise the
    lifespan opens one from ``settings`` (migrating) and closes it on shutdown."""
    metrics = runtime.metrics if runtime is not None else Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime
        if rt is None:
            rt = await open_runtime(settings)
            rt.metrics = metrics
        app.state.runtime = rt
        scheduler = None
        if run_scheduler:
            scheduler = CleanupScheduler(rt, interval=settings.cleanup_interval_seconds)
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            if runtime is None:
                await rt.aclose()

    app = FastAPI(title="voxa", version="0.1.0", lifespan=lifespan)
    if runtime is not None:
        app.state.runtime = runtime
    install_error_handlers(app)
    for module in (accounts, sessions, businesses, voices, health):
        app.include_router(module.router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware, metrics=metrics)
    return app
