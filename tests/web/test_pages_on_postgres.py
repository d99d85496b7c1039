"""The pages' main flow (two customers at once, the owner, the assistant) on a
`voxa serve` running on PostgreSQL + Redis as the non-superuser application
role; `test_pages` runs it on SQLite with the default store. Skipped only when
the suite has no PostgreSQL and Redis (CI always has them: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LIVE_BACKENDS
from tests.live_server import LiveServer, live_server
from tests.web import test_pages
from tests.web.conftest import Pages
from voxa.bench.common import Backend

pytestmark = [pytest.mark.slow, pytest.mark.parametrize(
    "live_backend", [p for p in LIVE_BACKENDS if p.id == "postgres+redis"], indirect=True,
    scope="module")]


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory,
               live_backend: Backend) -> Iterator[LiveServer]:
    yield from live_server(tmp_path_factory.mktemp("web-postgres"), {"VOXA_LLM": "scripted"},
                           artifact="web-postgres-serve.log", backend=live_backend)


async def test_customers_owner_and_assistant_on_postgres(pages: Pages,
                                                          web_server: LiveServer) -> None:
    assert web_server.backend.name == "postgres+redis"
    await test_pages.test_customers_owner_and_assistant(pages, web_server)
