"""Limits hold across API processes: two real `voxa serve` processes on one
PostgreSQL and one Redis share every count."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, REDIS_URL, _pg_admin
from tests.helpers import assert_error
from voxa.bench.common import Backend, Server, serve

pytestmark = [
    pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis,
    pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="needs PostgreSQL and Redis"),
]


@pytest.fixture
async def shared_db(pg_template: str | None) -> AsyncIterator[str]:
    name = f"voxa_t_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    assert PG_URL
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    await _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def two_servers(shared_db: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    backend = Backend("postgres+redis", shared_db, REDIS_URL)
    env = {"VOXA_LIMIT_LOGIN_PER_ACCOUNT": "3/minute",
           "VOXA_LIMIT_SESSION_STARTS_PER_ADDRESS": "4/minute",
           "VOXA_TRUSTED_PROXIES": "127.0.0.1/32",
           # one prefix for both replicas: they must share their counters
           "VOXA_REDIS_PREFIX": f"replicas-{uuid.uuid4().hex[:8]}:",
           "VOXA_SECRET_KEY": "replica-test-secret-key-0123456789abcdef"}
    with ExitStack() as stack:
        a = stack.enter_context(serve(backend, tmp_path / "a", extra_env=env))
        b = stack.enter_context(serve(backend, tmp_path / "b", extra_env=env))
        yield a, b


def test_login_and_session_start_limits_count_across_replicas(
        two_servers: tuple[Server, Server]) -> None:
    a, b = two_servers
    # A client address of its own, so runs sharing this Redis never meet.
    client = {"X-Forwarded-For": f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"}
    slug = f"rep-{uuid.uuid4().hex[:8]}"
    owner = f"owner@{slug}.example.com"
    with httpx.Client(timeout=30) as http:
        r = http.post(f"{a.base}/v1/businesses", headers=client, json={
            "name": "Replicated", "slug": slug,
            "owner": {"email": owner, "name": "O", "password": "correct horse battery"}})
        assert r.status_code == 201, r.text
        wrong = {"email": owner, "password": "wrong password!"}
        for base in (a.base, b.base, a.base):
            assert_error(http.post(f"{base}/v1/auth/login", json=wrong, headers=client), 401)
        r = http.post(f"{b.base}/v1/auth/login", headers=client,
                      json={"email": owner, "password": "correct horse battery"})
        assert_error(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) >= 1

        start = {"role": "customer", "business": slug}
        for base in (a.base, b.base, a.base, b.base):
            r = http.post(f"{base}/v1/sessions", json=start, headers=client)
            assert r.status_code == 201, r.text
        for base in (a.base, b.base):
            r = http.post(f"{base}/v1/sessions", json=start, headers=client)
            assert_error(r, 429, "rate_limited")
            assert int(r.headers["Retry-After"]) >= 1
