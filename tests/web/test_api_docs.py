"""/docs renders from local assets under a strict CSP with no
inline script (issue 10 part 7): the policy is added here to each response,
as the security-headers middleware does for every page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Request, Route

from tests.web.conftest import shot
from voxa.bench.common import Backend, serve

pytestmark = pytest.mark.slow

CSP = ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "worker-src 'self' blob:")


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = Path(tmp_path_factory.mktemp("docs")) / "data"
    with serve(Backend("sqlite+memory", None, None), data,
               extra_env={"VOXA_DOCS": "true"}) as s:
        yield s.base


async def test_docs_render_under_strict_csp(browser: Browser, docs_server: str) -> None:
    path, selector = "/docs", ".opblock"
    context = await browser.new_context(base_url=docs_server)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))

    def console(msg: ConsoleMessage) -> None:
        if "Content Security Policy" in msg.text or msg.type == "error":
            problems.append(msg.text)

    page.on("console", console)
    outside: list[str] = []

    async def with_csp(route: Route, request: Request) -> None:
        if not request.url.startswith(docs_server):
            outside.append(request.url)
            await route.abort()
            return
        response = await route.fetch()
        await route.fulfill(response=response,
                            headers={**response.headers, "content-security-policy": CSP})

    await page.route("**/*", with_csp)
    await page.goto(path)
    await page.wait_for_selector(selector, timeout=30_000)
    assert await page.locator(selector).count() >= 20
    await shot(page, "api-docs")
    await context.close()
    assert problems == [] and outside == [], (problems, outside)
