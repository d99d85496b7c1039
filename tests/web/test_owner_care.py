"""The owner dashboard's customer-care views in Chromium against a real
`voxa serve`: knowledge, outcomes, search and webhooks, each driven through its
own controls and checked on what the page shows, with a screenshot of each view
in test-artifacts/screenshots."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from standardwebhooks.webhooks import Webhook

from tests.live_server import LiveServer, live_server
from tests.web.conftest import SHOTS, Pages
from tests.webhook_receiver import receiver

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PASSWORD = "correct horse battery"
MAX_DOCUMENT_CHARS = 300


@pytest.fixture(scope="module")
def care_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from live_server(tmp_path_factory.mktemp("care"), {
        "VOXA_LLM": "scripted",
        # the test's receiver listens on loopback: the operator's switch allows it
        "VOXA_WEBHOOKS_ALLOW_PRIVATE": "true",
        "VOXA_WEBHOOKS_POLL_SECONDS": "0.2",
        "VOXA_KNOWLEDGE_MAX_DOCUMENT_CHARS": str(MAX_DOCUMENT_CHARS),
    }, artifact="care-serve.log")


@pytest.fixture
async def pages(browser: Browser, care_server: LiveServer) -> AsyncIterator[Pages]:
    p = Pages(browser, care_server.base)
    yield p
    for c in p.contexts:
        await c.close()
    assert p.errors == [], p.errors


class Shop:
    """A business and its customers, driven through the public API."""

    def __init__(self, server: LiveServer) -> None:
        self.client = httpx.AsyncClient(base_url=server.base, timeout=30)
        self.slug = f"care-{uuid.uuid4().hex[:6]}"

    async def open(self) -> Shop:
        r = await self.client.post("/v1/businesses", json={
            "name": "Corner Bakery", "slug": self.slug,
            "owner": {"email": self.email, "name": "Olu", "password": PASSWORD}})
        assert r.status_code == 201, r.text
        self.token = r.json()["token"]
        return self

    @property
    def email(self) -> str:
        return f"owner@{self.slug}.example.com"

    async def customer(self, name: str, **customer: str) -> dict[str, Any]:
        r = await self.client.post("/v1/sessions", json={
            "role": "customer", "business": self.slug, "customer": {"name": name, **customer}})
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def say(self, s: dict[str, Any], text: str) -> None:
        r = await self.client.post(f"/v1/sessions/{s['session_id']}/messages", json={"text": text},
                                   headers={"Authorization": f"Bearer {s['session_token']}"})
        assert r.status_code == 200, r.text

    async def end(self, s: dict[str, Any]) -> dict[str, Any]:
        r = await self.client.post(f"/v1/sessions/{s['session_id']}/end",
                                   headers={"Authorization": f"Bearer {s['session_token']}"})
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def owner_get(self, path: str) -> Any:
        r = await self.client.get(path, headers={"Authorization": f"Bearer {self.token}"})
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
async def shop(care_server: LiveServer) -> AsyncIterator[Shop]:
    s = await Shop(care_server).open()
    yield s
    await s.client.aclose()


async def dashboard(pages: Pages, shop: Shop) -> Page:
    page = await pages.open("/owner")
    await page.locator("#login-email").fill(shop.email)
    await page.locator("#login-password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#dashboard")).to_be_visible(timeout=15_000)
    return page


async def view_shot(page: Page, heading_id: str, name: str) -> Path:
    """A screenshot of one dashboard view (its section), not the whole page."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    section = page.locator(f'section[aria-labelledby="{heading_id}"]')
    await section.scroll_into_view_if_needed()
    await section.screenshot(path=str(path))
    assert path.stat().st_size > 0
    return path


def text_pdf(line: str) -> bytes:
    """A one-page PDF showing ``line``, built by hand (pypdf writes no text)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


async def test_knowledge_view(pages: Pages, shop: Shop) -> None:
    page = await dashboard(pages, shop)
    items = page.locator("#kb-list li")
    await expect(page.locator("#kb-empty")).to_be_visible()
    # an FAQ entry
    await page.get_by_label("Question").fill("When do you open?")
    await page.get_by_label("Answer", exact=True).fill("We open at 8 every morning.")
    await page.get_by_role("button", name="Add to knowledge").click()
    await expect(items.filter(has_text="When do you open? (faq)")).to_have_count(1)
    await expect(page.locator("#kb-status")).to_contain_text("Saved")
    # a Markdown document
    await page.get_by_label("Kind").select_option("markdown")
    await page.get_by_label("Title").fill("Delivery")
    await page.locator("#kb-content").fill("# Delivery\n\nWe deliver within 5 km.")
    await page.get_by_role("button", name="Add to knowledge").click()
    await expect(items.filter(has_text="Delivery (markdown)")).to_have_count(1)
    # a PDF, uploaded from a file and reduced to its text by the server
    await page.get_by_label("Kind").select_option("pdf")
    await page.get_by_label("Title").fill("Allergens")
    await page.get_by_label("PDF file").set_input_files(files=[{
        "name": "allergens.pdf", "mimeType": "application/pdf",
        "buffer": text_pdf("Gluten free loaves every Friday")}])
    await page.get_by_role("button", name="Add to knowledge").click()
    await expect(items.filter(has_text="Allergens (pdf)")).to_have_count(1)
    docs = (await shop.owner_get(f"/v1/businesses/{shop.slug}/knowledge"))["documents"]
    pdf = next(d for d in docs if d["title"] == "Allergens")
    detail = await shop.owner_get(f"/v1/businesses/{shop.slug}/knowledge/{pdf['id']}")
    assert "Gluten free loaves every Friday" in detail["source"]
    # over the size limit: said next to the form, as an error, nothing added
    await page.get_by_label("Kind").select_option("text")
    await page.get_by_label("Title").fill("Huge")
    await page.locator("#kb-content").fill("flour " * MAX_DOCUMENT_CHARS)
    await page.get_by_role("button", name="Add to knowledge").click()
    status = page.locator("#kb-status")
    await expect(status).to_contain_text("Too large")
    await expect(status).to_contain_text(f"at most {MAX_DOCUMENT_CHARS} characters")
    await expect(status).to_have_class("status error")
    await expect(items).to_have_count(3)
    # delete
    await items.filter(has_text="Delivery (markdown)").get_by_role("button", name="Delete").click()
    await expect(items.filter(has_text="Delivery")).to_have_count(0)
    await expect(items).to_have_count(2)
    await expect(status).to_contain_text("Deleted")
    await expect(status).not_to_have_class("status error")
    await view_shot(page, "kb-h", "30-owner-knowledge")


async def test_outcomes_view(pages: Pages, shop: Shop) -> None:
    hana = await shop.customer("Hana", email="hana@example.com")
    await shop.say(hana, "Do you bake rye bread?")
    tim = await shop.customer("Tim")
    await shop.say(tim, "/tool create_ticket " + json.dumps(
        {"subject": "Broken cake", "body": "It collapsed"}))
    sam = await shop.customer("Sam")
    ended = [await shop.end(s) for s in (hana, tim, sam)]
    assert [e["outcome"] for e in ended] == ["resolved", "ticket_opened", "abandoned"]

    page = await dashboard(pages, shop)
    rows = page.locator("#outcomes tbody tr")
    await expect(rows).to_have_count(3, timeout=15_000)
    hana_row = rows.filter(has_text="hana@example.com")
    await expect(hana_row).to_contain_text("Resolved")
    await expect(hana_row).to_contain_text("Do you bake rye bread?")
    await expect(hana_row).to_contain_text("Hana")
    await view_shot(page, "outcomes-h", "31-owner-outcomes")

    await page.get_by_label("Outcome", exact=True).select_option("ticket_opened")
    await expect(page.locator("#outcomes-status")).to_contain_text("1 session: Ticket opened")
    await expect(rows).to_have_count(1)
    await expect(rows.locator("td").first).to_have_text("Ticket opened")
    await expect(rows).to_contain_text("Tim")
    await page.get_by_label("Outcome", exact=True).select_option("abandoned")
    await expect(rows).to_have_count(1)
    await expect(rows.locator("td").first).to_have_text("Abandoned")
    await page.get_by_label("Outcome", exact=True).select_option("handed_to_person")
    await expect(rows).to_have_count(0)
    await expect(page.locator("#outcomes-empty")).to_be_visible()
    await page.get_by_label("Outcome", exact=True).select_option("ticket_opened")
    await expect(rows).to_have_count(1)
    await view_shot(page, "outcomes-h", "32-owner-outcomes-filtered")


async def test_search_view(pages: Pages, shop: Shop, care_server: LiveServer) -> None:
    other = await Shop(care_server).open()
    try:
        stranger = await other.customer("Otto")
        await other.say(stranger, "croissant from the other bakery")
    finally:
        await other.client.aclose()
    # 13 customer turns, each echoed by the scripted assistant: 26 hits, 2 pages
    hostile = '<b>croissant</b> <img src=x onerror="alert(1)">'
    n = 0
    for name in ("Ana", "Ben", "Cy"):
        s = await shop.customer(name)
        for _ in range(4):
            n += 1
            await shop.say(s, f"croissant order {n}")
    await shop.say(s, hostile)

    page = await dashboard(pages, shop)
    await page.get_by_label("Words in messages, summaries and tickets").fill("Croissant")
    await page.get_by_role("button", name="Search", exact=True).click()
    hits = page.locator("#search-results li")
    await expect(hits).to_have_count(20)
    # newest first; the page shows the hostile text as text, not markup
    await expect(hits.first).to_contain_text(hostile)
    await expect(page.locator("#search-results img")).to_have_count(0)
    await expect(page.locator("#search-results b")).to_have_count(0)
    await expect(hits.nth(2)).to_contain_text("croissant order 12")
    # every hit marks the word with a <mark> element
    marks = page.locator("#search-results li mark")
    assert await marks.count() >= 20
    assert {t.lower() for t in await marks.all_inner_texts()} == {"croissant"}
    await expect(page.locator("#search-results")).not_to_contain_text("other bakery")
    await expect(page.locator("#search-prev")).to_be_hidden()
    await view_shot(page, "search-h", "33-owner-search")

    await page.get_by_role("button", name="Next page").click()
    await expect(page.locator("#search-status")).to_contain_text("Page 2")
    await expect(hits).to_have_count(6)
    await expect(hits.last).to_contain_text("croissant order 1")
    await expect(page.locator("#search-next")).to_be_hidden()
    await expect(page.locator("#search-results")).not_to_contain_text("other bakery")
    await view_shot(page, "search-h", "34-owner-search-page-2")
    await page.get_by_role("button", name="Previous page").click()
    await expect(page.locator("#search-status")).to_contain_text("Page 1")
    await expect(hits).to_have_count(20)
    await expect(hits.first).to_contain_text(hostile)


async def test_webhooks_view(pages: Pages, shop: Shop) -> None:
    page = await dashboard(pages, shop)
    async with receiver() as rec:
        await page.get_by_label("Endpoint URL").fill(rec.url)
        await page.get_by_label("Description").fill("helpdesk")
        await page.get_by_label("ticket.created").check()
        await page.get_by_role("button", name="Add endpoint").click()
        secret = page.locator("#wh-secret")
        await expect(secret).to_contain_text("whsec_")
        key = await secret.inner_text()
        endpoints = page.locator("#wh-list li")
        await expect(endpoints).to_have_count(1)
        await expect(endpoints).to_contain_text(rec.url)
        await expect(endpoints).to_contain_text("session.ended, ticket.created")

        # a customer's session ends: the runner inside `voxa serve` delivers it
        s = await shop.customer("Hana")
        await shop.say(s, "Thanks, that is all")
        await shop.end(s)
        await rec.wait_for(1)
        await endpoints.get_by_role("button", name="Deliveries").click()
        rows = page.locator("#wh-deliveries tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows).to_contain_text("session.ended")
        await expect(rows).to_contain_text("succeeded", timeout=20_000)
        await expect(rows).to_contain_text("HTTP 200")
        await view_shot(page, "wh-h", "35-owner-webhooks")

        await rows.get_by_role("button", name="Re-send").click()
        await expect(page.locator("#wh-deliveries-status")).to_contain_text("Re-sending")
        await rec.wait_for(2)
        # the same message again: one webhook-id, a valid signature each time
        first, again = rec.requests
        assert first.headers["webhook-id"] == again.headers["webhook-id"]
        for got in (first, again):
            assert Webhook(key).verify(got.body, got.headers)["type"] == "session.ended"
        await expect(rows).to_have_count(1)
        await expect(rows).to_contain_text(again.headers["webhook-id"])
        await expect(rows).to_contain_text("succeeded", timeout=20_000)
        await view_shot(page, "wh-h", "36-owner-webhooks-resent")

        await endpoints.get_by_role("button", name="Delete").click()
        await expect(endpoints).to_have_count(0)
        await expect(page.locator("#wh-empty")).to_be_visible()
        await expect(page.locator("#wh-deliveries-box")).to_be_hidden()
    assert len(rec.requests) == 2
