"""Hostile text in a real browser: a business name, customer and user names,
messages, ticket subjects and memories carrying script payloads are shown as
literal text on every page, under the strict CSP, with no dialog and no CSP
violation; framing is refused except the widget on the business's own sites."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    BrowserContext,
    Frame,
    FrameLocator,
    Page,
    Request,
    expect,
)

from tests.live_server import LiveServer
from tests.web.conftest import (
    REPORT_CSP_VIOLATIONS,
    Pages,
    shot,
    site_origin,
    static_site,
    watch_csp,
)

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"
BUSINESS = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
CUSTOMER = "<img src=x onerror=alert(3)> javascript:alert(4)"
USER = "<b onmouseover=alert(5)>Gia</b>"
MESSAGE = "<script>alert(6)</script><svg onload=alert(7)> javascript:alert(8)"
SUBJECT = '"><img src=x onerror=alert(9)>'
MEMORY = '<iframe src="javascript:alert(10)"></iframe>'
# Elements none of the pages has, so any of them is markup an attacker injected.
INJECTED = "img, svg, iframe, b, script:not([src])"


class Watch:
    """Pages whose dialogs and CSP violations are collected for the test to check."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.dialogs: list[str] = []
        self.violations: list[str] = []
        self.opened: list[Page] = []

    async def context(self) -> BrowserContext:
        context = await self.pages.browser.new_context(base_url=self.pages.base)
        self.pages.contexts.append(context)
        await context.add_init_script(REPORT_CSP_VIOLATIONS)
        return context

    async def open(self, path: str) -> Page:
        page = await (await self.context()).new_page()
        page.on("pageerror", lambda e: self.pages.errors.append(str(e)))
        watch_csp(page, self.violations)

        async def dismiss(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", dismiss)
        await page.goto(path)
        self.opened.append(page)
        return page

    async def assert_clean(self) -> None:
        for page in self.opened:
            for frame in page.frames:
                if frame.url.startswith(self.pages.base):  # voxa's pages, not the shop's
                    assert await frame.locator(INJECTED).count() == 0, frame.url
        assert self.dialogs == []
        assert self.violations == []


async def api(server: LiveServer, method: str, path: str, token: str | None = None,
              **kw: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=server.base) as c:
        r = await c.request(method, path, headers=headers, **kw)
    assert r.status_code < 300, r.text
    return dict(r.json())


async def hostile_business(server: LiveServer, slug: str, allowed: list[str]
                           ) -> dict[str, Any]:
    biz = await api(server, "POST", "/v1/businesses", json={"name": BUSINESS, "slug": slug,
                    "owner": {"email": f"o@{slug}.example.com", "name": "O", "password": PASSWORD}})
    await api(server, "PATCH", f"/v1/businesses/{slug}/settings", biz["token"],
              json={"allowed_origins": allowed})
    return biz


async def say(page: Page | Frame | FrameLocator, text: str, reply: str) -> None:
    box = page.get_by_label("Your message")
    await box.fill(text)
    await box.press("Enter")
    await expect(page.locator(".msg.assistant").last).to_contain_text(reply, timeout=20_000)
    # the reply is complete (the composer takes the next message)
    await expect(page.locator(".msg[aria-busy]")).to_have_count(0)
    await expect(page.locator("button.send")).to_be_enabled()


async def customer_chat(page: Page | Frame | FrameLocator) -> None:
    """Starts a chat as CUSTOMER and says MESSAGE; every text stays text."""
    await page.get_by_label("Name").fill(CUSTOMER)
    await page.get_by_role("button", name="Start chat").click()
    await expect(page.locator(".msg.assistant").first).to_contain_text(f"Hi {CUSTOMER}")
    await expect(page.locator("section.chat")).to_have_attribute(
        "aria-label", f"Conversation with {BUSINESS}")
    await say(page, MESSAGE, f"You said: {MESSAGE}")
    await expect(page.locator(".msg.user").last).to_have_text(f"You{MESSAGE}")


def widget_site(folder: Path, server: LiveServer, slug: str, *frames: str) -> Path:
    """A customer's website with the widget and, optionally, frames of voxa pages."""
    folder.mkdir()
    iframes = "".join(f'<iframe id="f{i}" src="{server.base}{p}"></iframe>'
                      for i, p in enumerate(frames))
    (folder / "index.html").write_text(f"""<!doctype html><html lang="en"><head>
        <title>Site</title></head><body><h1>A shop's own website</h1>{iframes}
        <script src="{server.base}/widget.js" data-business="{slug}"></script></body></html>""")
    return folder


async def test_script_payloads_are_text_on_every_page(pages: Pages, web_server: LiveServer,
                                                      tmp_path: Path) -> None:
    watch = Watch(pages)
    slug = f"evil-{uuid.uuid4().hex[:6]}"
    with static_site(widget_site(tmp_path / "shop", web_server, slug)) as site_url:
        await hostile_business(web_server, slug, [site_origin(site_url)])

        # the public chat page: the name in the heading, title and panel label
        chat = await watch.open(f"/chat/{slug}")
        await expect(chat.locator("h1")).to_have_text(BUSINESS)
        await expect(chat).to_have_title(f"Chat with {BUSINESS}")
        await customer_chat(chat)
        ticket = {"subject": SUBJECT, "body": MESSAGE, "priority": "high"}
        await say(chat, f"/tool create_ticket {json.dumps(ticket)}", "TOOL: Ticket")
        await expect(chat.locator(".msg.assistant").last).to_contain_text(SUBJECT)
        memory = {"category": "FACT", "key": "note", "value": MEMORY}
        await say(chat, f"/tool remember {json.dumps(memory)}", f"Remembered note = {MEMORY}")
        await say(chat, '/tool recall {"query": "note"}', f"note: {MEMORY}")
        await shot(chat, "11-hostile-customer-chat")

        # the widget on the business's own site
        host = await watch.open(site_url)
        await host.get_by_role("button", name="Chat with us").click()
        frame = host.frame_locator("#voxa-widget-frame")
        await customer_chat(frame)
        await shot(host, "12-hostile-widget")

    # the general assistant: the user's own name, messages and memories
    gen = await watch.open("/assistant")
    await gen.locator("#signup-name").fill(USER)
    await gen.locator("#signup-email").fill(f"gia-{uuid.uuid4().hex[:6]}@example.com")
    await gen.locator("#signup-password").fill(PASSWORD)
    await gen.get_by_role("button", name="Create account").click()
    await expect(gen.locator("#who")).to_have_text(f"Signed in as {USER}")
    await expect(gen.locator(".msg.assistant").first).to_contain_text(f"Hi {USER}")
    await say(gen, MESSAGE, f"You said: {MESSAGE}")
    await say(gen, f"/tool remember {json.dumps(memory)}", f"Remembered note = {MEMORY}")
    await say(gen, '/tool recall {"query": "note"}', f"note: {MEMORY}")
    await shot(gen, "13-hostile-assistant")

    # the owner's dashboard: business name, transcripts, tickets, allowed sites
    owner = await watch.open("/owner")
    await owner.locator("#login-email").fill(f"o@{slug}.example.com")
    await owner.locator("#login-password").fill(PASSWORD)
    await owner.get_by_role("button", name="Log in").click()
    await expect(owner.locator("#business-title")).to_have_text(f"{BUSINESS} — dashboard")
    await expect(owner.locator("#tickets tbody td").first).to_have_text(SUBJECT, timeout=15_000)
    await expect(owner.get_by_label(f"Status of ticket: {SUBJECT}")).to_be_visible()
    await owner.locator("#sessions tbody tr").first.get_by_role("button").click()
    await expect(owner.locator("#transcript")).to_contain_text(MESSAGE, timeout=15_000)
    await expect(owner.locator("#allowed-origins")).to_have_value(site_origin(site_url))
    # the allowed-sites field: a bad origin is refused and nothing is saved
    await owner.locator("#allowed-origins").fill(f"{site_origin(site_url)}\njavascript:alert(11)")
    await owner.get_by_role("button", name="Save websites").click()
    await expect(owner.get_by_role("alert")).to_contain_text("origin")
    await owner.locator("#allowed-origins").fill(
        f"{site_origin(site_url)}\nHTTPS://Shop.Example.com/")
    await owner.get_by_role("button", name="Save websites").click()
    await expect(owner.locator("#origins-status")).to_contain_text("Saved")
    await expect(owner.locator("#allowed-origins")).to_have_value(
        f"{site_origin(site_url)}\nhttps://shop.example.com")
    await shot(owner, "14-hostile-owner-dashboard")
    await watch.assert_clean()


class Refusals:
    """The frames of a page that the browser blocked for their response's
    ``frame-ancestors`` (the request fails with ERR_BLOCKED_BY_RESPONSE)."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.blocked: list[str] = []
        page.on("requestfailed", self._failed)

    def _failed(self, request: Request) -> None:
        if "ERR_BLOCKED_BY_RESPONSE" in (request.failure or ""):
            self.blocked.append(request.url.removeprefix(self.base))

    async def wait(self, paths: list[str]) -> None:
        """Until exactly ``paths`` (voxa URLs) were blocked."""
        while not set(paths) <= set(self.blocked):
            await self.page.wait_for_event("requestfailed", timeout=20_000)
        assert sorted(self.blocked) == sorted(paths)

    async def assert_empty(self, selector: str) -> None:
        handle = await self.page.wait_for_selector(selector, state="attached")
        frame = await handle.content_frame()
        assert frame is not None and frame.url.startswith("chrome-error:"), frame
        assert await frame.locator("main").count() == 0, frame.url


async def test_framing_is_refused_except_the_widget_on_allowed_sites(
        pages: Pages, web_server: LiveServer, tmp_path: Path) -> None:
    slug = f"evil-{uuid.uuid4().hex[:6]}"
    shop_dir = widget_site(tmp_path / "shop", web_server, slug, "/owner", f"/chat/{slug}")
    other_dir = widget_site(tmp_path / "other", web_server, slug, "/owner")
    with static_site(shop_dir) as shop_url, static_site(other_dir) as other_url:
        shop_origin = site_origin(shop_url)
        await hostile_business(web_server, slug, [shop_origin])
        context = await pages.browser.new_context()
        pages.contexts.append(context)

        # the business's own site: the dashboard and the chat page outside the
        # widget are refused, the widget works
        shop = await context.new_page()
        shop_refusals = Refusals(shop, web_server.base)
        await shop.goto(shop_url)
        await shop_refusals.wait(["/owner", f"/chat/{slug}"])
        await shop_refusals.assert_empty("#f0")
        await shop_refusals.assert_empty("#f1")
        await shop.get_by_role("button", name="Chat with us").click()
        frame = shop.frame_locator("#voxa-widget-frame")
        await frame.get_by_label("Name").fill("Wes")
        await frame.get_by_role("button", name="Start chat").click()
        await expect(frame.locator(".msg.assistant").first).to_contain_text("Hi Wes")
        await shot(shop, "15-widget-on-the-allowed-site")

        # another site: the dashboard and the widget are both refused
        other = await context.new_page()
        other_refusals = Refusals(other, web_server.base)
        await other.goto(other_url)
        await other_refusals.wait(["/owner", f"/chat/{slug}?embed=1"])
        await other_refusals.assert_empty("#f0")
        await other_refusals.assert_empty("#voxa-widget-frame")
        await other.get_by_role("button", name="Chat with us").click()
        await shot(other, "16-widget-refused-on-another-site")
