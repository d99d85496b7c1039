"""The cluster of ``stack.py`` for this package's tests (one for all of them:
starting it costs a minute on two cores), with the recording model."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from redis import Redis
from sqlalchemy.engine import make_url

from tests.cluster.fake_model import RecordingModel, recording_model
from tests.cluster.stack import Cluster, cluster
from tests.conftest import PG_URL, REDIS_URL, _pg_admin
from tests.live_server import ROOT
from voxa.kv import create_store
from voxa.kv.base import TTLStore
from voxa.voice.livekit_server import find_binary

pytestmark = [pytest.mark.slow, pytest.mark.cluster]


@pytest.fixture(scope="package")
def model() -> Iterator[RecordingModel]:
    with recording_model() as m:
        yield m


@pytest.fixture(scope="package")
def stack(model: RecordingModel, pg_template: str | None,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not (PG_URL and REDIS_URL):
        pytest.skip("the cluster needs VOXA_TEST_POSTGRES_URL and VOXA_TEST_REDIS_URL")
    binary = find_binary(ROOT)
    if binary is None:
        pytest.fail("livekit-server is not installed: run scripts/bootstrap.sh --tools")
    name = f"voxa_cluster_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(f"CREATE DATABASE {name} TEMPLATE {pg_template}"))
    for db in (4, 5):  # LiveKit's and voxa's (store + Celery broker) Redis dbs
        r = Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + f"/{db}")
        r.flushdb()
        r.close()
    try:
        with cluster(tmp_path_factory.mktemp("cluster"), binary=binary,
                     database_url=make_url(PG_URL).set(database=name)
                     .render_as_string(hide_password=False),
                     redis_url=REDIS_URL, model_url=model.base_url) as c:
            yield c
    finally:
        asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
async def store(stack: Cluster) -> AsyncIterator[TTLStore]:
    """voxa's shared store, as the cluster's processes see it."""
    s = create_store(stack.redis_url, prefix=stack.redis_prefix)
    yield s
    await s.aclose()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=120) as c:
        yield c
