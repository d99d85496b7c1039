"""Browser tests: Debian's Chromium driven by Playwright against the real
`voxa serve` (scripted model, so tool calls are deterministic; real voice)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.live_server import ROOT, LiveServer, live_server

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from live_server(tmp_path_factory.mktemp("web"), {"VOXA_LLM": "scripted"},
                           artifact="web-serve.log")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat at fixture set-up
        pytest.fail("chromium is not installed: run scripts/bootstrap.sh --browser")
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        await b.close()


# Every page reports the Content-Security-Policy violations it sees to its console.
REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`securitypolicyviolation ${e.violatedDirective} ${e.blockedURI}`));"""


def is_csp_violation(text: str) -> bool:
    return "securitypolicyviolation" in text or "Content Security Policy" in text


def watch_csp(page: Page, into: list[str]) -> None:
    page.on("console", lambda m: into.append(m.text) if is_csp_violation(m.text) else None)


class Pages:
    """Opens pages; fails the test on any JavaScript error or CSP violation."""

    def __init__(self, browser: Browser, base: str) -> None:
        self.browser = browser
        self.base = base
        self.errors: list[str] = []
        self.contexts: list[BrowserContext] = []

    async def open(self, path: str, context: BrowserContext | None = None,
                   **context_args: Any) -> Page:
        if context is None:
            context = await self.browser.new_context(base_url=self.base, **context_args)
            await context.add_init_script(REPORT_CSP_VIOLATIONS)
            self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        watch_csp(page, self.errors)
        await page.goto(path)
        return page


@pytest.fixture
async def pages(browser: Browser, web_server: LiveServer) -> AsyncIterator[Pages]:
    p = Pages(browser, web_server.base)
    yield p
    for c in p.contexts:
        await c.close()
    assert p.errors == [], p.errors


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def write_wav(path: Path, pcm: bytes, rate: int, *, lead_s: float = 1.0,
              tail_s: float = 6.0) -> Path:
    silence = b"\x00\x00"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(silence * int(rate * lead_s) + pcm + silence * int(rate * tail_s))
    return path


@contextlib.contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on its own loopback origin, like a customer's website."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/index.html"
    finally:
        httpd.shutdown()
        thread.join()


def site_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
