"""Security headers on every response: a strict CSP on pages, a CSP that
allows nothing on everything else, no framing except the embedded customer
chat on the business's own sites, the microphone only where calls happen."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings
from tests.helpers import bearer, create_business
from voxa.agent.scripted_llm import ScriptedLLM
from voxa.api.app import create_app
from voxa.runtime import Runtime

CALL_PAGES = ("/owner", "/assistant", "/chat/head-co", "/chat/head-co?embed=1")


def directives(csp: str) -> dict[str, str]:
    return {d.strip().split(" ", 1)[0]: d.strip().partition(" ")[2] for d in csp.split(";")}


def assert_common(r: httpx.Response) -> dict[str, str]:
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    csp = r.headers["content-security-policy"]
    assert "unsafe" not in csp and "*" not in csp
    return directives(csp)


async def test_pages_get_a_strict_policy(client: httpx.AsyncClient) -> None:
    await create_business(client, "head-co")
    for path in ("/", *CALL_PAGES, "/chat/no-such-shop", "/docs"):
        r = await client.get(path)
        assert r.headers["content-type"].startswith("text/html"), path
        d = assert_common(r)
        assert d["default-src"] == "'self'" and d["script-src"] == "'self'", (path, d)
        assert d["style-src"] == "'self'" and d["object-src"] == "'none'", (path, d)
        assert d["base-uri"] == "'none'" and d["form-action"] == "'self'", (path, d)
        # the pages reach the API and the configured LiveKit server, nothing else
        assert d["connect-src"] == "'self' ws://127.0.0.1:1 http://127.0.0.1:1", (path, d)
        assert d["frame-ancestors"] == "'none'", (path, d)
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["cross-origin-opener-policy"] == "same-origin", path
        microphone = "microphone=(self)" if path.startswith(("/owner", "/assistant", "/chat/")
                                                            ) else "microphone=()"
        assert r.headers["permissions-policy"].startswith(microphone + ","), path
        assert "camera=()" in r.headers["permissions-policy"], path


async def test_api_and_assets_get_a_policy_that_allows_nothing(
        client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "head-co")
    responses = [
        await client.get("/v1/voices"),
        await client.get("/v1/businesses/head-co/stats", headers=bearer(owner["token"])),
        await client.get("/v1/businesses/head-co/stats"),  # 401
        await client.post("/v1/sessions", content=b"x" * 100_000,  # 413 from the middleware
                          headers={"content-type": "application/json"}),
        await client.get("/static/js/chat.js"),
        await client.get("/widget.js"),
        await client.get("/openapi.json"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 401, 413, 200, 200, 200]
    for r in responses:
        d = assert_common(r)
        assert d["default-src"] == "'none'" and d["frame-ancestors"] == "'none'", r.url
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["permissions-policy"].startswith("microphone=(),")


async def test_only_the_embedded_chat_opens_to_the_allowed_sites(
        client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "head-co")
    await create_business(client, "other-co")
    # before the owner lists a site, the widget's frame is refused everywhere
    r = await client.get("/chat/head-co?embed=1")
    assert directives(r.headers["content-security-policy"])["frame-ancestors"] == "'none'"
    sites = ["https://shop.example.com", "http://127.0.0.1:8080"]
    r = await client.patch("/v1/businesses/head-co/settings", json={"allowed_origins": sites},
                           headers=bearer(owner["token"]))
    assert r.status_code == 200, r.text
    embedded = await client.get("/chat/head-co?embed=1")
    assert directives(embedded.headers["content-security-policy"])["frame-ancestors"] == (
        "https://shop.example.com http://127.0.0.1:8080")
    assert "x-frame-options" not in embedded.headers
    # the same page outside the widget, another business and the dashboard stay closed
    for path in ("/chat/head-co", "/chat/other-co?embed=1", "/owner?embed=1"):
        r = await client.get(path)
        assert directives(r.headers["content-security-policy"])["frame-ancestors"] == "'none'"
        assert r.headers["x-frame-options"] == "DENY", path


async def test_operator_connect_sources(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={
        "livekit_url": "wss://voice.example.com", "csp_connect_src": ["wss://*.livekit.cloud"]})
    app = create_app(settings, runtime=runtime, model=ScriptedLLM())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://voxa.test") as c:
        r = await c.get("/owner")
    assert directives(r.headers["content-security-policy"])["connect-src"] == (
        "'self' wss://voice.example.com https://voice.example.com wss://*.livekit.cloud")


@pytest.mark.parametrize("source", ["'unsafe-inline'", "https://a.example.com; script-src *",
                                    "*", "https://a.example.com/path"])
def test_operator_connect_sources_cannot_inject(tmp_path: Path, source: str) -> None:
    with pytest.raises(ValueError, match="CSP source"):
        make_settings(tmp_path, csp_connect_src=[source])
