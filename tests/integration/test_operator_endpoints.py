"""Issue 10 part 7: /metrics and /readyz behind the operator token; API docs
from local assets with no inline script, or off."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.conftest import make_settings
from voxa.agent.scripted_llm import ScriptedLLM
from voxa.api.app import create_app
from voxa.runtime import Runtime
from voxa.settings import Environment, Settings

OPERATOR = "operator-token-for-tests-0123456789"


async def _client(runtime: Runtime, **overrides: object) -> AsyncIterator[httpx.AsyncClient]:
    settings = runtime.settings.model_copy(update=overrides)
    rt = dataclasses.replace(runtime, settings=settings)  # same database and store
    app = create_app(settings, runtime=rt, model=ScriptedLLM())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://voxa.test") as c:
        yield c


@pytest.fixture
async def protected(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(runtime, protect_operator_endpoints=True,
                           operator_token=SecretStr(OPERATOR)):
        yield c


async def test_operator_endpoints_need_the_operator_token(
    protected: httpx.AsyncClient,
) -> None:
    for path in ("/metrics", "/readyz"):
        wrong: list[Any] = [{}, {"Authorization": "Bearer wrong"},
                            {"Authorization": f"Basic {OPERATOR}"},
                            {"Authorization": "Bearer caf\u00e9".encode()}]
        for headers in wrong:
            r = await protected.get(path, headers=headers)
            assert r.status_code == 401, (path, headers, r.text)
            assert r.json()["error"]["code"] == "operator_only"
            assert "voxa_" not in r.text and "checks" not in r.text
        r = await protected.get(path, headers={"Authorization": f"Bearer {OPERATOR}"})
        assert r.status_code == 200, r.text
    assert (await protected.get("/healthz")).status_code == 200
    spec = (await protected.get("/openapi.json")).json()
    assert "401" in spec["paths"]["/metrics"]["get"]["responses"]


async def test_an_account_token_is_not_the_operator(protected: httpx.AsyncClient) -> None:
    from tests.helpers import bearer, create_business

    owner = await create_business(protected, "op-co")
    r = await protected.get("/metrics", headers=bearer(owner["token"]))
    assert r.status_code == 401


async def test_unprotected_operator_endpoints_are_open(runtime: Runtime) -> None:
    async for c in _client(runtime, protect_operator_endpoints=False):
        assert (await c.get("/metrics")).status_code == 200
        assert (await c.get("/readyz")).status_code == 200
        spec = (await c.get("/openapi.json")).json()
        assert "401" not in spec["paths"]["/metrics"]["get"]["responses"]


def test_defaults_protect_and_hide_docs_in_production_only(tmp_path: Path) -> None:
    prod = Settings(env=Environment.production, secret_key=SecretStr("k" * 40), data_dir=tmp_path)
    assert prod.operator_endpoints_protected and not prod.docs_enabled
    for env in (Environment.development, Environment.test):
        s = Settings(env=env, data_dir=tmp_path)
        assert not s.operator_endpoints_protected and s.docs_enabled
    forced = Settings(env=Environment.production, secret_key=SecretStr("k" * 40), data_dir=tmp_path,
                      docs=True, protect_operator_endpoints=False)
    assert forced.docs_enabled and not forced.operator_endpoints_protected
    assert make_settings(tmp_path).docs_enabled


async def test_docs_pages_use_local_assets_and_no_inline_script(client: httpx.AsyncClient
                                                                ) -> None:
    assert (await client.get("/redoc")).status_code == 404  # ReDoc always calls its CDN
    for page, bundle in (("/docs", "swagger-ui-bundle.js"),):
        r = await client.get(page)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        html = r.text
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        assert scripts and all(body.strip() == "" for _, body in scripts), scripts
        assert not re.search(r"\son\w+=", html)  # no inline handlers
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
        assert any(s.endswith(bundle) for s in sources)
        for src in sources:
            asset = await client.get(src)
            assert asset.status_code == 200, src
            assert len(asset.content) > 100
        assert 'data-openapi-url="/openapi.json"' in html


async def test_docs_off(runtime: Runtime) -> None:
    async for c in _client(runtime, docs=False):
        for path in ("/docs", "/openapi.json", "/docs-assets/swagger-ui-bundle.js"):
            assert (await c.get(path)).status_code == 404, path
        assert (await c.get("/healthz")).status_code == 200
