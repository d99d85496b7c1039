from __future__ import annotations

import httpx

from tests.helpers import create_business, start_customer
from voxa.runtime import Runtime


async def test_health_ready_metrics(client: httpx.AsyncClient, runtime: Runtime) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "store": "ok"}
    await create_business(client, "metric-co")
    await start_customer(client, "metric-co")
    await start_customer(client, "metric-co")
    text = (await client.get("/metrics")).text
    assert 'voxa_sessions_started_total{channel="text",role="customer"} 2.0' in text
    assert 'voxa_sessions_active{role="customer"} 2.0' in text
    assert 'voxa_http_request_duration_seconds_count{method="POST",route="/v1/sessions"' in text
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "voxa"


async def test_readyz_reports_a_dead_database(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await runtime.engine.dispose()
    runtime.engine.url  # noqa: B018 - engine object stays; point it at nothing below
    from voxa.storage.db import create_engine, session_factory

    broken = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    runtime.db = session_factory(broken)
    r = await client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["database"].startswith("error")
    await broken.dispose()
