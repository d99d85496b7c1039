"""`voxa serve --workers N`: several API processes on PostgreSQL + Redis; refused,
with the reason, where processes could not share state."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, REDIS_URL, _pg_admin
from tests.integration.test_cli import voxa
from voxa.bench.common import Backend, serve


def test_workers_refused_without_redis_or_postgresql(tmp_path: Path) -> None:
    r = voxa("serve", "--workers", "2", "--no-voice", data_dir=tmp_path / "data")
    assert r.returncode == 2
    assert "--workers above 1 needs Redis" in r.stderr
    r = voxa("serve", "--workers", "2", "--no-voice", data_dir=tmp_path / "data",
             VOXA_REDIS_URL="redis://127.0.0.1:1/0")
    assert r.returncode == 2
    assert "--workers above 1 needs PostgreSQL" in r.stderr


@pytest.fixture
async def shared_db(pg_template: str | None) -> AsyncIterator[str]:
    name = f"voxa_t_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    assert PG_URL
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    await _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="needs PostgreSQL and Redis")
async def test_two_worker_processes_answer_one_session_in_order(shared_db: str,
                                                                tmp_path: Path) -> None:
    backend = Backend("postgres+redis", shared_db, REDIS_URL)
    env = {"VOXA_SECRET_KEY": "workers-test-secret-key-0123456789abcdef"}
    with serve(backend, tmp_path / "w", extra_env=env, workers=2) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
            slug = f"wk-{uuid.uuid4().hex[:8]}"
            r = await http.post("/v1/businesses", json={
                "name": "Workers", "slug": slug,
                "owner": {"email": f"o@{slug}.example.com", "name": "O",
                          "password": "correct horse battery"}})
            assert r.status_code == 201, r.text
            r = await http.post("/v1/sessions", json={"role": "customer", "business": slug,
                                                      "customer": {"name": "W"}})
            assert r.status_code == 201, r.text
            s = r.json()
            url = f"/v1/sessions/{s['session_id']}/messages"
            h = {"Authorization": f"Bearer {s['session_token']}"}
            results = await asyncio.gather(*(http.post(url, json={"text": f"m{i}"}, headers=h)
                                             for i in range(6)))
            assert [r.status_code for r in results] == [200] * 6, [r.text for r in results]
            listed = (await http.get(url, headers=h)).json()["messages"]
            assert [m["role"] for m in listed] == ["user", "assistant"] * 6
            for asked, answered in zip(listed[::2], listed[1::2], strict=True):
                assert answered["content"] == f"You said: {asked['content']}"
