"""The cleanup job on Celery: real `voxa jobs` worker processes with Redis as
broker; beat schedules it; concurrent runs across workers never double-process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.conftest import PG_URL, REDIS_URL, _pg_admin, app_url, make_settings
from voxa.domain import Role
from voxa.jobs.celery_app import CLEANUP_TASK, make_celery
from voxa.kv.keys import all_session_keys
from voxa.runtime import Runtime, open_runtime
from voxa.sessions.service import CustomerInfo, StartRequest, start_session
from voxa.storage.models import AgentConfig, AgentSession, Business
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.tenancy import bind_db_scope, db_scope
from voxa.storage.types import utcnow

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="needs VOXA_TEST_REDIS_URL (a Redis broker)"),
]


@pytest.fixture
async def shared(tmp_path: Path, pg_template: str | None) -> AsyncIterator[dict[str, str]]:
    """A database and Redis db both this test and the worker processes use."""
    assert REDIS_URL
    redis_url = REDIS_URL.rsplit("/", 1)[0] + "/7"  # own Redis db: broker keys stay apart
    if PG_URL:
        name = f"voxa_c_{uuid.uuid4().hex[:10]}"
        await _pg_admin(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
        db_url = app_url(name)
    else:
        db_url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    from redis.asyncio import Redis

    r = Redis.from_url(redis_url)
    await r.flushdb()
    await r.aclose()
    try:
        yield {"database_url": db_url, "redis_url": redis_url}
    finally:
        if PG_URL:
            await _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _spawn_worker(
    tmp_path: Path, env_urls: dict[str, str], *, beat: bool, name: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VOXA_ENV": "test",
        "VOXA_DATA_DIR": str(tmp_path / name),
        "VOXA_DATABASE_URL": env_urls["database_url"],
        "VOXA_REDIS_URL": env_urls["redis_url"],
        "VOXA_CLEANUP_INTERVAL_SECONDS": "1",
    }
    args = [sys.executable, "-m", "voxa.cli", "jobs", "--concurrency", "1"]
    if not beat:
        args.append("--no-beat")
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


async def _seed(rt: Runtime, n: int) -> list[str]:
    # the test's own writes and reads are the operator's (row-level security)
    with db_scope(Scope.system()):
        return await _seed_as_operator(rt, n)


async def _seed_as_operator(rt: Runtime, n: int) -> list[str]:
    async with rt.db() as db:
        b = Business(slug=f"celery-{uuid.uuid4().hex[:6]}", name="C")
        db.add(b)
        await db.flush()
        db.add(AgentConfig(business_id=b.id, name="a", is_default=True))
        await db.commit()
    sids = []
    for i in range(n):
        grant = await start_session(
            rt,
            StartRequest(
                role=Role.customer,
                channel="text",
                business=b.slug,
                customer=CustomerInfo(name=f"c{i}"),
            ),
            None,
        )
        sids.append(grant.row.session_id)
    bind_db_scope(Scope.system())  # start_session bound the business it started in
    async with rt.db() as db:
        await db.execute(
            update(AgentSession)
            .where(AgentSession.session_id.in_(sids))
            .values(last_activity_at=utcnow() - timedelta(hours=30))
        )
        await db.commit()
    return sids


async def _wait_all_timeout(rt: Runtime, sids: list[str], seconds: float) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while True:
        with db_scope(Scope.system()):
            async with rt.db() as db:
                rows = [await sessions_repo.get(db, s, scope=Scope.system()) for s in sids]
        statuses = {r.session_id: r.status for r in rows if r is not None}
        if all(v == "timeout" for v in statuses.values()) or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.5)


async def test_beat_schedules_cleanup_on_a_real_worker(
    tmp_path: Path, shared: dict[str, str], workers: list[subprocess.Popen[bytes]]
) -> None:
    settings = make_settings(tmp_path, **shared)
    rt = await open_runtime(settings, run_migrations=not PG_URL)
    try:
        sids = await _seed(rt, 5)
        workers.append(_spawn_worker(tmp_path, shared, beat=True, name="beat-worker"))
        statuses = await _wait_all_timeout(rt, sids, 60)
        log = (tmp_path / "beat-worker.log").read_text(errors="replace")
        assert set(statuses.values()) == {"timeout"}, log[-3000:]
        for sid in sids:
            assert await rt.store.exists(*all_session_keys(sid)) == 0
    finally:
        await rt.aclose()


async def test_concurrent_tasks_on_two_workers_do_not_double_process(
    tmp_path: Path, shared: dict[str, str], workers: list[subprocess.Popen[bytes]]
) -> None:
    settings = make_settings(tmp_path, **shared)
    rt = await open_runtime(settings, run_migrations=not PG_URL)
    try:
        sids = await _seed(rt, 20)
        workers.append(_spawn_worker(tmp_path, shared, beat=False, name="w1"))
        workers.append(_spawn_worker(tmp_path, shared, beat=False, name="w2"))
        app = make_celery(settings)
        results = [app.send_task(CLEANUP_TASK) for _ in range(6)]
        reports = await asyncio.gather(*(asyncio.to_thread(r.get, timeout=90) for r in results))
        assert sum(r["timed_out"] for r in reports) == 20, reports
        statuses = await _wait_all_timeout(rt, sids, 5)
        assert set(statuses.values()) == {"timeout"}
        app.close()
    finally:
        await rt.aclose()
