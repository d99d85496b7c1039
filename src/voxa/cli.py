"""``voxa`` command line: serve, migrate, cleanup, token, jobs.

Flags beat environment variables; both are turned into one ``Settings``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from voxa.domain import Role
from voxa.logs import configure_logging, get_logger
from voxa.settings import Settings, build_settings
from voxa.storage.session_state import SessionState

log = get_logger("voxa.cli")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="VOXA_DATA_DIR")
    p.add_argument("--database-url", help="VOXA_DATABASE_URL")
    p.add_argument("--redis-url", help="VOXA_REDIS_URL")
    p.add_argument("--env", choices=["development", "production", "test"], help="VOXA_ENV")
    p.add_argument("--log-format", choices=["auto", "json", "console"], help="VOXA_LOG_FORMAT")


def _settings(args: argparse.Namespace, **extra: Any) -> Settings:
    settings = build_settings(
        data_dir=args.data_dir,
        database_url=args.database_url,
        redis_url=args.redis_url,
        env=args.env,
        log_format=args.log_format,
        **extra,
    )
    configure_logging(settings)
    return settings


def _run(coro_fn: Callable[[], Coroutine[Any, Any, int]]) -> int:
    return asyncio.run(coro_fn())


def _embedded_livekit(settings: Settings, enabled: bool) -> tuple[Settings, Any]:
    """Start a loopback livekit-server when none is configured and one is installed."""
    from voxa.voice.livekit_server import LiveKitDevServer, find_binary

    if not enabled or settings.livekit_configured:
        return settings, None
    binary = find_binary(Path(__file__).resolve().parents[2])
    if binary is None:
        log.info("voice_disabled", reason="no LIVEKIT_URL and no livekit-server binary found")
        return settings, None
    server = LiveKitDevServer(binary, work_dir=settings.data_dir / "livekit")
    ep = server.start()
    return settings.model_copy(update={
        "livekit_url": ep.url, "livekit_api_key": ep.api_key,
        "livekit_api_secret": SecretStr(ep.api_secret)}), server


# An idle HTTP connection stays open longer than clients and proxies keep theirs
# (httpx 5 s, nginx upstream 60 s): with uvicorn's 5 s a client reusing its
# pooled connection could send a request just as the server closed it and get
# "server disconnected without sending a response" (seen under load).
KEEP_ALIVE_SECONDS = 75


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from voxa.api.app import create_app
    from voxa.settings import settings_env

    settings = _settings(args, host=args.host, port=args.port)
    settings, livekit_server = _embedded_livekit(settings, not args.no_voice)
    voice = settings.livekit_configured and not args.no_voice
    if voice and not settings.redis_url and settings.store == "memory":
        # Voice jobs run in child processes: share the store through the database.
        settings = settings.model_copy(update={"store": "sql"})
    os.environ.update(settings_env(settings))
    # uvicorn re-raises SIGTERM after its graceful shutdown, so cleanup lives
    # in the app's lifespan (and the child also dies with us: PR_SET_PDEATHSIG).
    app = create_app(settings, run_scheduler=True, run_voice=voice,
                     on_shutdown=[livekit_server.astop] if livekit_server else None)
    log.info("serve_starting", url=f"http://{settings.host}:{settings.port}",
             database=settings.effective_database_url.split("://")[0],
             store="redis" if settings.redis_url else settings.store,
             livekit=settings.livekit_url or None, voice=voice)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                access_log=False, timeout_keep_alive=KEEP_ALIVE_SECONDS)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from voxa.storage.db import create_engine
    from voxa.storage.migrate import migrate

    settings = _settings(args)

    async def go() -> int:
        engine = create_engine(settings.effective_database_url)
        try:
            await migrate(engine, args.revision)
        finally:
            await engine.dispose()
        log.info("migrated", revision=args.revision)
        return 0

    return _run(go)


def cmd_cleanup(args: argparse.Namespace) -> int:
    from voxa.jobs.cleanup import run_cleanup
    from voxa.runtime import open_runtime

    settings = _settings(args)

    async def go() -> int:
        rt = await open_runtime(settings)
        try:
            report = await run_cleanup(rt)
        finally:
            await rt.aclose()
        sys.stdout.write(json.dumps(report.as_dict()) + "\n")
        return 0

    return _run(go)


def cmd_token(args: argparse.Namespace) -> int:
    """Mint a LiveKit token for an existing session (debugging)."""
    from voxa.runtime import open_runtime
    from voxa.sessions.service import business_slug, issue_grant
    from voxa.storage.repos import sessions as sessions_repo
    from voxa.storage.scope import Scope
    from voxa.storage.tenancy import db_scope

    settings = _settings(args)
    if not settings.livekit_configured:
        log.error(
            "livekit_not_configured", hint="set LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET"
        )
        return 2

    async def go() -> int:
        rt = await open_runtime(settings)
        try:
            with db_scope(Scope.system()):  # the operator's command
                async with rt.db() as db:
                    row = await sessions_repo.get(db, args.session_id, scope=Scope.system())
            if row is None:
                log.error("session_not_found", session_id=args.session_id)
                return 1
            slug = await business_slug(rt, row)
            name = SessionState.of(row.context_data).name
            grant = issue_grant(rt, row, slug, name)
            sys.stdout.write(
                json.dumps(
                    {
                        "url": settings.livekit_url,
                        "room": row.room_name,
                        "token": grant.livekit_token,
                    }
                )
                + "\n"
            )
            return 0
        finally:
            await rt.aclose()

    return _run(go)


def cmd_jobs(args: argparse.Namespace) -> int:
    """A Celery worker (with beat unless --no-beat) running the periodic jobs."""
    from voxa.jobs.celery_app import make_celery

    settings = _settings(args)
    if not settings.redis_url:
        log.error("redis_required", hint="set VOXA_REDIS_URL: Celery uses Redis as its broker")
        return 2
    app = make_celery(settings)
    argv = [
        "worker",
        "--loglevel=INFO",
        f"--concurrency={args.concurrency}",
        "--pool=solo" if args.concurrency == 1 else "--pool=prefork",
    ]
    if not args.no_beat:
        argv += ["--beat", f"--schedule={settings.data_dir / 'celerybeat-schedule'}"]
    app.worker_main(argv)
    return 0


async def run_voice_worker(settings: Settings, *, pool: Any = None,
                           num_idle_processes: int | None = None,
                           load_threshold: float | None = None) -> None:
    """Run a voice worker until cancelled or signalled; starts the shared local
    model server first when ``VOXA_LLM=local`` and none is running."""
    import contextlib
    import os
    import signal

    from voxa.agent.models import LOCAL_LLM_URL_ENV, parse_provider
    from voxa.voice.worker import build_worker

    async with contextlib.AsyncExitStack() as stack:
        if parse_provider(settings).kind == "local" and not os.environ.get(LOCAL_LLM_URL_ENV):
            from voxa.agent.local_server import LocalModelServer

            llm_server = LocalModelServer(log_dir=settings.data_dir / "logs")
            await llm_server.start()
            stack.push_async_callback(llm_server.stop)
            # Job processes inherit the environment: this is how they find the model.
            os.environ[LOCAL_LLM_URL_ENV] = llm_server.base_url
        server = build_worker(settings, pool=pool, num_idle_processes=num_idle_processes,
                              load_threshold=load_threshold)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        run = asyncio.create_task(server.run(devmode=False))
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait({run, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        await server.aclose()
        with contextlib.suppress(asyncio.CancelledError):
            await run


def cmd_worker(args: argparse.Namespace) -> int:
    """A LiveKit voice worker: one job per session room."""
    from voxa.voice.worker import PoolFilter

    settings = _settings(args, worker_max_jobs=args.max_jobs)
    if not settings.livekit_configured:
        log.error("livekit_not_configured",
                  hint="set LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET")
        return 2
    import os

    from voxa.settings import settings_env

    os.environ.update(settings_env(settings))  # job processes read their settings from it
    pool = PoolFilter(roles=frozenset(args.role or ()), businesses=frozenset(args.business or ()))
    log.info("worker_starting", agent_name=settings.livekit_agent_name,
             roles=sorted(pool.roles) or "any", businesses=sorted(pool.businesses) or "any")
    asyncio.run(run_voice_worker(settings, pool=pool, num_idle_processes=args.idle_processes,
                                 load_threshold=args.load_threshold))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    import logging

    from voxa.bench import cli as bench

    logging.basicConfig(level=logging.WARNING)
    names = bench.NAMES if args.name == "all" else (args.name,)
    failed = 0
    for name in names:
        if name == "voice" and args.backend != "sqlite":
            continue  # the voice bench runs the embedded setup
        failed |= bench.run(name, backend=args.backend, quick=args.quick, llm=args.llm)
    return failed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voxa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the API, web pages and jobs in one process")
    _common(p)
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--no-voice", action="store_true",
                   help="do not start livekit-server / the voice worker")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply database migrations")
    _common(p)
    p.add_argument("--revision", default="head")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("cleanup", help="run the cleanup job once")
    _common(p)
    p.set_defaults(func=cmd_cleanup)

    p = sub.add_parser("token", help="mint a LiveKit token for a session (debugging)")
    _common(p)
    p.add_argument("session_id")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("worker", help="run a LiveKit voice worker (agent jobs)")
    _common(p)
    p.add_argument("--role", action="append", choices=[r.value for r in Role],
                   help="serve only this role (repeatable); default: all")
    p.add_argument("--business", action="append", metavar="SLUG",
                   help="serve only this business (repeatable); default: all")
    p.add_argument("--idle-processes", type=int,
                   help="prewarmed job processes kept ready (VOXA_WORKER_IDLE_PROCESSES, 1)")
    p.add_argument("--load-threshold", type=float,
                   help="stop taking jobs above this share of --max-jobs "
                        "(VOXA_WORKER_LOAD_THRESHOLD, 1.0)")
    p.add_argument("--max-jobs", type=int, help="concurrent sessions (VOXA_WORKER_MAX_JOBS, 8)")
    p.set_defaults(func=cmd_worker)

    from voxa.bench.cli import NAMES

    p = sub.add_parser("bench", help="run a benchmark (prints a JSON line and a table)")
    p.add_argument("name", choices=[*NAMES, "all"])
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite",
                   help="sqlite+memory (default) or postgres+redis (VOXA_BENCH_POSTGRES_URL, "
                        "VOXA_BENCH_REDIS_URL)")
    p.add_argument("--quick", action="store_true", help="smaller counts, for a smoke run")
    p.add_argument("--llm", default="scripted", help="voice bench model: scripted or local")
    p.set_defaults(func=cmd_bench)

    from voxa.eval import cli as eval_cli

    p = sub.add_parser("eval", help="run the assistant's conversation scenarios with a model "
                       "(prints a table and a JSON line)")
    eval_cli.add_arguments(p)
    p.set_defaults(func=eval_cli.run)

    p = sub.add_parser("jobs", help="Celery worker + beat for the periodic jobs (distributed)")
    _common(p)
    p.add_argument("--no-beat", action="store_true")
    p.add_argument("--concurrency", type=int, default=1)
    p.set_defaults(func=cmd_jobs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
