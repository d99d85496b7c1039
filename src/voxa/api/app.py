"""The FastAPI application, built by :func:`create_app`."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from livekit.agents import llm

from voxa.agent.models import LOCAL_LLM_URL_ENV, build_llm, parse_provider
from voxa.agent.turns import TextTurns
from voxa.api.docs import install_docs
from voxa.api.errors import install_error_handlers
from voxa.api.middleware import AccessLogMiddleware, BodyLimitMiddleware, DbScopeMiddleware
from voxa.api.openapi import install_openapi
from voxa.api.routes import (
    accounts,
    audio,
    auth,
    business_hours,
    businesses,
    handoff,
    health,
    knowledge,
    me,
    messages,
    operator,
    owner_events,
    search,
    sessions,
    takeover,
    voices,
    webhooks,
)
from voxa.api.routes import pages as web_routes
from voxa.api.security_headers import HeaderPolicy, SecurityHeadersMiddleware, livekit_sources
from voxa.jobs.scheduler import cleanup_schedule, webhook_dispatcher
from voxa.logs import get_logger
from voxa.metrics import Metrics
from voxa.runtime import Runtime, open_runtime
from voxa.settings import Settings
from voxa.tracing import setup_tracing
from voxa.web.assets import STATIC_DIR

log = get_logger(__name__)


async def start_model(settings: Settings, stack: AsyncExitStack) -> llm.LLM[Any]:
    """The configured LLM; for ``local``, the shared model server child process."""
    spec = parse_provider(settings)
    local_url = None
    if spec.kind == "local":
        from voxa.agent.local_server import LocalModelServer

        server = LocalModelServer(log_dir=settings.data_dir / "logs")
        await server.start()
        stack.push_async_callback(server.stop)
        local_url = server.base_url
        # Voice job processes (children) reach the same shared model server.
        os.environ[LOCAL_LLM_URL_ENV] = local_url
    model = build_llm(settings, local_url=local_url)
    stack.push_async_callback(model.aclose)
    log.info("llm_ready", provider=spec.kind, model=spec.model)
    return model


async def start_voice_worker(settings: Settings, stack: AsyncExitStack) -> None:
    """The embedded voice worker, in this process's event loop."""
    from voxa.voice.drain import drain, second_signal_sets
    from voxa.voice.worker import build_worker

    server = build_worker(settings)
    task = asyncio.create_task(server.run(devmode=False), name="voxa-voice-worker")

    async def stop() -> None:
        if not task.done():
            # Shutdown (SIGTERM, Ctrl-C) reaches here after the server stopped
            # taking requests: the calls in progress end first, like `voxa
            # worker`'s, bounded by worker_drain_seconds; a second signal
            # stops waiting.
            again = asyncio.Event()
            with second_signal_sets(again):
                await drain(server, seconds=settings.worker_drain_seconds, again=again)
        await server.aclose()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 30)

    stack.push_async_callback(stop)
    log.info("voice_worker_started", agent_name=settings.livekit_agent_name)


def app_from_environment() -> FastAPI:
    """One API process of ``voxa serve --workers N``: settings from the
    environment its parent exported; the voice worker runs beside, once."""
    from voxa.logs import configure_logging
    from voxa.settings import build_settings

    settings = build_settings()
    configure_logging(settings)
    return create_app(settings, run_scheduler=True, run_voice=False)


def create_app(
    settings: Settings, *, runtime: Runtime | None = None, model: llm.LLM[Any] | None = None,
    run_scheduler: bool = False, run_voice: bool = False,
    on_shutdown: list[Callable[[], Awaitable[None]]] | None = None,
) -> FastAPI:
    """Build the app.

    With ``runtime`` (and ``model``) the caller owns them and the app is usable
    at once (tests, benchmarks); otherwise the lifespan opens the runtime from
    ``settings`` (migrating), starts the configured model and closes both.
    """
    metrics = runtime.metrics if runtime is not None else Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for callback in on_shutdown or ():
                stack.push_async_callback(callback)
            rt = runtime
            if rt is None:
                provider = setup_tracing(settings, service="voxa-api")
                if provider is not None:
                    stack.callback(provider.shutdown)
                rt = await open_runtime(settings)
                rt.metrics = metrics
                stack.push_async_callback(rt.aclose)
            app.state.runtime = rt
            if getattr(app.state, "turns", None) is None:
                app.state.turns = TextTurns(rt, model or await start_model(settings, stack))
            stack.push_async_callback(app.state.turns.aclose)
            if run_voice and settings.livekit_configured:
                await start_voice_worker(settings, stack)
            if run_scheduler:
                for job in (cleanup_schedule(rt, interval=settings.cleanup_interval_seconds),
                            webhook_dispatcher(rt, interval=settings.webhooks_poll_seconds)):
                    job.start()
                    stack.push_async_callback(job.stop)
            yield

    openapi_url = "/openapi.json" if settings.docs_enabled else None
    app = FastAPI(title="voxa", version="0.1.0", lifespan=lifespan, openapi_url=openapi_url,
                  docs_url=None, redoc_url=None)
    app.state.turns = None
    if runtime is not None:
        app.state.runtime = runtime
        if model is not None:
            app.state.turns = TextTurns(runtime, model)
    install_error_handlers(app)
    modules = (accounts, auth, sessions, messages, businesses, knowledge, me, voices, health,
               operator, search, webhooks, handoff, owner_events, business_hours,
               takeover, audio)
    routers = [m.router for m in modules]
    routers.append(health.operator_router)
    for router in routers:
        app.include_router(router)
    install_openapi(app, settings, [r for router in routers for r in router.routes
                                    if isinstance(r, APIRoute)])
    if openapi_url is not None:
        install_docs(app, openapi_url)
    app.include_router(web_routes.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(DbScopeMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware, metrics=metrics)
    # Outermost, so every response gets the headers (413s and 500s included).
    policy = HeaderPolicy(connect_src=[*livekit_sources(settings.livekit_url),
                                       *settings.csp_connect_src])
    app.add_middleware(SecurityHeadersMiddleware, policy=policy)
    return app
