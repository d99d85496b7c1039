"""Engine and session factory. SQLite gets WAL, foreign keys and a busy timeout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from voxa.storage.tenancy import TenantSession


def create_engine(url: str, *, hide_parameters: bool = True, begin_immediate: bool = True,
                  **kwargs: Any) -> AsyncEngine:
    """``hide_parameters``: keep statement parameters (customer text, e-mails,
    password hashes) out of error messages and logs; only development and test
    runtimes turn it off. ``begin_immediate`` (SQLite): every transaction takes
    the write lock at BEGIN; an engine whose transactions each start with their
    write, or only read, passes False so its reads never wait for a writer."""
    kwargs["hide_parameters"] = hide_parameters
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
        # One connection per process: SQLite has one writer anyway, and an
        # asyncio queue in front of it is fairer and faster than sqlite's
        # sleep-polling busy handler. Cross-process contention (worker, jobs)
        # still goes through busy_timeout.
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_timeout", 60)
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" hook below own transaction boundaries.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Immediate: take the write lock at BEGIN so read-then-write
            # transactions in different processes serialize instead of failing
            # on lock upgrade. Deferred: under WAL a read never waits.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if begin_immediate else "BEGIN")

        return engine
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose transactions carry the bound tenant (``voxa.storage.tenancy``)."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TenantSession)
