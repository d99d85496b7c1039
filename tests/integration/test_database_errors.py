"""Issue 10 part 7: a value the database refuses is a 422, not a 500; SQL
parameters stay out of error messages in production."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import make_settings
from tests.helpers import assert_error
from voxa.agent.scripted_llm import ScriptedLLM
from voxa.api.app import create_app
from voxa.runtime import Runtime, open_runtime
from voxa.storage.models import Business


async def test_longest_business_name_signs_up(client: httpx.AsyncClient) -> None:
    """The default agent is named after the business: a 200-character name made
    its 210-character agent name a 500 on PostgreSQL."""
    r = await client.post("/v1/businesses", json={
        "name": "N" * 200, "slug": "long-name-co",
        "owner": {"email": "o@long.example.com", "name": "O" * 200,
                  "password": "correct horse battery"}})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    r = await client.get("/v1/businesses/long-name-co/agent",
                         headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and len(r.json()["name"]) == 200


async def test_database_data_error_is_422(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite does not enforce column lengths")
    app = create_app(runtime.settings, runtime=runtime, model=ScriptedLLM())

    async def oversize() -> dict[str, str]:
        # A value no schema would let through today: the handler's mapping is
        # what stands between a future gap and a 500.
        async with runtime.db() as db:
            db.add(Business(slug="x" * 41, name="Oversize"))
            await db.commit()
        return {}

    app.add_api_route("/test-oversize", oversize, methods=["POST"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://voxa.test") as c:
        r = await c.post("/test-oversize")
    assert_error(r, 422, "invalid_input")
    assert "x" * 41 not in r.text
    async with runtime.db() as db:
        count = (await db.execute(text("SELECT count(*) FROM businesses"))).scalar_one()
    assert count == 0


@pytest.mark.parametrize("env,hidden", [("production", True), ("test", False)])
async def test_sql_parameters_hidden_in_production(
    backend: dict[str, str | None], tmp_path: Path, env: str, hidden: bool
) -> None:
    settings = make_settings(tmp_path, env=env, secret_key="k" * 40,
                             database_url=backend["database_url"])
    rt = await open_runtime(settings, run_migrations=backend["database_url"] is None)
    try:
        assert rt.engine.sync_engine.hide_parameters is hidden
        secret = "customer-secret-text-4711"
        with pytest.raises(DBAPIError) as caught:
            async with rt.db() as db:
                await db.execute(text("INSERT INTO no_such_table (v) VALUES (:v)"), {"v": secret})
        assert (secret in str(caught.value)) is not hidden
    finally:
        await rt.aclose()
