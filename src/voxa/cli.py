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

from voxa.logs import configure_logging, get_logger
from voxa.settings import Settings, build_settings

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


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from voxa.api.app import create_app

    settings = _settings(args, host=args.host, port=args.port)
    app = create_app(settings, run_scheduler=True)
    log.info(
        "serve_starting",
        url=f"http://{settings.host}:{settings.port}",
        database=settings.effective_database_url.split("://")[0],
        store="redis" if settings.redis_url else "memory",
        livekit=settings.livekit_url or None,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
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

    settings = _settings(args)
    if not settings.livekit_configured:
        log.error(
            "livekit_not_configured", hint="set LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET"
        )
        return 2

    async def go() -> int:
        rt = await open_runtime(settings)
        try:
            async with rt.db() as db:
                row = await sessions_repo.get(db, args.session_id, scope=Scope.system())
            if row is None:
                log.error("session_not_found", session_id=args.session_id)
                return 1
            slug = await business_slug(rt, row)
            name = str((row.context_data or {}).get("display_name") or "Guest")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voxa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the API, web pages and jobs in one process")
    _common(p)
    p.add_argument("--host")
    p.add_argument("--port", type=int)
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
