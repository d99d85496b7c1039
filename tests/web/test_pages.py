"""The web pages in a real browser: customer chat isolation and resume, the
owner dashboard, the general assistant, the widget, error states, voice."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.live_server import LiveServer
from tests.web.conftest import (
    CHROMIUM,
    FLAGS,
    REPORT_CSP_VIOLATIONS,
    Pages,
    shot,
    site_origin,
    static_site,
    watch_csp,
    write_wav,
)

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"


async def new_business(server: LiveServer) -> dict[str, Any]:
    slug = f"shop-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=server.base) as c:
        r = await c.post("/v1/businesses", json={"name": "Corner Bakery", "slug": slug, "owner": {
            "email": f"owner@{slug}.example.com", "name": "Olu", "password": PASSWORD}})
    assert r.status_code == 201, r.text
    return {"slug": slug, **r.json()}


async def start_chat(page: Page, name: str) -> None:
    await page.get_by_label("Name").fill(name)
    await page.get_by_role("button", name="Start chat").click()
    await expect(page.locator(".msg.assistant").first).to_contain_text(f"Hi {name}")


async def say(page: Page, text: str, expect_reply: str | None = None) -> None:
    await page.get_by_label("Your message").fill(text)
    await page.get_by_label("Your message").press("Enter")
    await expect(page.locator(".msg.assistant").last).to_contain_text(
        expect_reply or f"You said: {text}", timeout=20_000)


async def test_customers_owner_and_assistant(pages: Pages, web_server: LiveServer) -> None:
    biz = await new_business(web_server)
    slug = biz["slug"]
    ana = await pages.open(f"/chat/{slug}")
    ben = await pages.open(f"/chat/{slug}")
    await shot(ana, "01-customer-chat-start")
    await start_chat(ana, "Ana")
    await start_chat(ben, "Ben")
    # two customers at the same time, each seeing only their own conversation
    await say(ana, "alpha marmalade 123")
    await say(ben, "bravo pretzel 456")
    await say(ana, "another alpha question")
    ticket = {"subject": "Pretzels arrived stale", "body": "Order 456 was stale",
              "priority": "high"}
    await say(ben, f"/tool create_ticket {json.dumps(ticket)}", expect_reply="TOOL: Ticket")
    assert "pretzel" not in (await ana.content()).lower()
    assert "marmalade" not in (await ben.content()).lower()
    await shot(ana, "02-customer-chat-conversation")

    # a reload resumes the same session, history intact
    stored_sid = f"JSON.parse(sessionStorage.getItem('voxa:session:{slug}')).session_id"
    sid = await ana.evaluate(stored_sid)
    await ana.reload()
    await expect(ana.locator(".msg.user").first).to_contain_text("alpha marmalade 123")
    assert await ana.evaluate(stored_sid) == sid
    assert await ana.evaluate(f"localStorage.getItem('voxa:customer:{slug}')") is not None
    await say(ana, "still here after reload")

    # the owner's dashboard shows both sessions and Ben's ticket
    owner = await pages.open("/owner")
    await owner.locator("#login-email").fill(f"owner@{slug}.example.com")
    await owner.locator("#login-password").fill(PASSWORD)
    await owner.get_by_role("button", name="Log in").click()
    await expect(owner.locator("#sessions tbody tr")).to_have_count(2, timeout=15_000)
    await expect(owner.locator("#auth")).to_be_hidden()
    await expect(owner.locator("#tickets tbody")).to_contain_text("Pretzels arrived stale")
    await expect(owner.locator("#stats")).to_contain_text("Sessions")
    # transcripts, and live updates while a customer chats
    await owner.locator("#sessions tbody tr").first.get_by_role("button").click()
    await expect(owner.locator("#transcript .msg").first).to_be_visible()
    await say(ben, "live update check 789")
    await owner.locator("#sessions tbody tr", has_text="Customer").nth(0).get_by_role(
        "button").click()
    await expect(owner.locator("#transcript")).to_contain_text(
        re.compile("live update check 789|still here after reload"), timeout=15_000)
    # change a ticket's status
    await owner.get_by_label("Status of ticket: Pretzels arrived stale").select_option("closed")
    async with httpx.AsyncClient(base_url=web_server.base) as c:
        for _ in range(20):
            r = await c.get(f"/v1/businesses/{slug}/tickets",
                            headers={"Authorization": f"Bearer {biz['token']}"})
            if r.json()["tickets"][0]["status"] == "closed":
                break
    assert r.json()["tickets"][0]["status"] == "closed"
    # agent settings and widget snippet
    await owner.locator("#agent-greeting").fill("Welcome to the bakery, {name}!")
    await owner.get_by_role("button", name="Save settings").click()
    await expect(owner.locator("#agent-status")).to_contain_text("Saved")
    await expect(owner.locator("#widget-snippet")).to_contain_text(f'data-business="{slug}"')
    await shot(owner, "03-owner-dashboard")
    # the new greeting applies to new conversations
    cara = await pages.open(f"/chat/{slug}")
    await cara.get_by_label("Name").fill("Cara")
    await cara.get_by_role("button", name="Start chat").click()
    await expect(cara.locator(".msg.assistant").first).to_have_text(
        re.compile("Welcome to the bakery, Cara!"))

    # a general user signs up and chats with the general assistant
    gen = await pages.open("/assistant")
    await gen.locator("#signup-name").fill("Gia")
    await gen.locator("#signup-email").fill(f"gia-{uuid.uuid4().hex[:6]}@example.com")
    await gen.locator("#signup-password").fill(PASSWORD)
    await gen.get_by_role("button", name="Create account").click()
    await expect(gen.locator(".msg.assistant").first).to_contain_text("Hi Gia")
    await expect(gen.locator("#auth")).to_be_hidden()
    await say(gen, "what can you do")
    await shot(gen, "04-general-assistant")


async def test_error_states_and_widget(pages: Pages, web_server: LiveServer,
                                       tmp_path: Path) -> None:
    page = await pages.open("/chat/no-such-shop")
    await expect(page.get_by_role("alert")).to_contain_text("no-such-shop")
    await shot(page, "05-unknown-business")

    biz = await new_business(web_server)
    # expired session: the stored session is ended server-side, the page starts anew
    chat = await pages.open(f"/chat/{biz['slug']}")
    await start_chat(chat, "Eve")
    key = f"voxa:session:{biz['slug']}"
    stored = await chat.evaluate(f"JSON.parse(sessionStorage.getItem('{key}'))")
    async with httpx.AsyncClient(base_url=web_server.base) as c:
        await c.post(f"/v1/sessions/{stored['session_id']}/end",
                     headers={"Authorization": f"Bearer {stored['session_token']}"})
    await chat.reload()
    await expect(chat.get_by_role("alert")).to_contain_text("ended")
    await expect(chat.get_by_role("button", name="Start chat")).to_be_visible()
    await shot(chat, "06-expired-session")

    # no microphone at all
    await start_chat(chat, "Eve")
    await chat.get_by_role("button", name="Call").click()
    await expect(chat.get_by_role("alert")).to_contain_text("No microphone was found",
                                                            timeout=20_000)

    # server unreachable: the API goes away under the page
    await chat.route("**/v1/**", lambda route: route.abort())
    await chat.get_by_label("Your message").fill("are you there?")
    await chat.get_by_label("Your message").press("Enter")
    await expect(chat.get_by_role("alert")).to_contain_text("Cannot reach the server")
    await shot(chat, "08-server-unreachable")
    await chat.unroute("**/v1/**")

    # the embeddable widget on the business's own site (another origin)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(f"""<!doctype html><html lang="en"><head><title>Bakery</title>
        </head><body><h1>Corner Bakery's own website</h1>
        <script src="{web_server.base}/widget.js" data-business="{biz['slug']}"></script>
        </body></html>""")
    with static_site(site) as site_url:
        # the business lets its own site frame the chat (refused until it does)
        async with httpx.AsyncClient(base_url=web_server.base) as c:
            r = await c.patch(f"/v1/businesses/{biz['slug']}/settings",
                              json={"allowed_origins": [site_origin(site_url)]},
                              headers={"Authorization": f"Bearer {biz['token']}"})
        assert r.status_code == 200, r.text
        host = await pages.open(site_url)
        await host.get_by_role("button", name="Chat with us").click()
        frame = host.frame_locator("#voxa-widget-frame")
        await frame.get_by_label("Name").fill("Wes")
        await frame.get_by_role("button", name="Start chat").click()
        await expect(frame.locator(".msg.assistant").first).to_contain_text("Hi Wes")
        await frame.get_by_label("Your message").fill("hello from the widget")
        await frame.get_by_label("Your message").press("Enter")
        await expect(frame.locator(".msg.assistant").last).to_contain_text(
            "You said: hello from the widget")
        await shot(host, "09-widget")


async def test_microphone_denied(web_server: LiveServer) -> None:
    """A microphone exists but the user refuses it."""
    biz = await new_business(web_server)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=[*FLAGS, "--use-fake-device-for-media-stream"])
        context = await browser.new_context(base_url=web_server.base)  # no permission granted
        page = await context.new_page()
        await page.goto(f"/chat/{biz['slug']}")
        await start_chat(page, "Dee")
        await page.get_by_role("button", name="Call").click()
        await expect(page.get_by_role("alert")).to_contain_text("Microphone access was denied",
                                                                timeout=20_000)
        await expect(page.get_by_role("button", name="Call")).to_be_visible()
        await shot(page, "07-microphone-denied")
        await browser.close()


async def test_browser_voice_call(web_server: LiveServer, tmp_path: Any) -> None:
    """Chromium's fake microphone speaks a synthesized question into a call; the
    transcript shows what the agent heard and its spoken reply."""
    from tests.voice.conftest import speech

    pcm, rate = await speech("What are your opening hours?")
    wav = write_wav(tmp_path / "question.wav", pcm, rate)
    biz = await new_business(web_server)
    async with async_playwright() as p:
        browser: Browser = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=[*FLAGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-audio-capture={wav}",
                  "--autoplay-policy=no-user-gesture-required"])
        context = await browser.new_context(base_url=web_server.base, permissions=["microphone"])
        await context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        watch_csp(page, errors)  # livekit-client works under the strict CSP
        await page.goto(f"/chat/{biz['slug']}")
        await start_chat(page, "Vic")
        await page.get_by_role("button", name="Call").click()
        await expect(page.get_by_role("button", name="Hang up")).to_be_visible(timeout=30_000)
        heard = page.locator(".msg.user.voice", has_text=re.compile("opening hours", re.I))
        await expect(heard.first).to_be_visible(timeout=90_000)
        reply = page.locator(".msg.assistant.voice", has_text=re.compile("opening hours", re.I))
        await expect(reply.first).to_be_visible(timeout=90_000)
        await shot(page, "10-voice-call")
        await page.get_by_role("button", name="Hang up").click()
        await expect(page.get_by_role("button", name="Call")).to_be_visible()
        await browser.close()
        assert errors == []


async def test_owner_cookie_session(pages: Pages, web_server: LiveServer,
                                    tmp_path: Path) -> None:
    """The dashboard's login lives in an HttpOnly cookie, not in script or
    storage; reload keeps it; another origin cannot use it; password change,
    log out everywhere and log out revoke it."""
    biz = await new_business(web_server)
    email = f"owner@{biz['slug']}.example.com"
    owner = await pages.open("/owner")
    await owner.locator("#login-email").fill(email)
    await owner.locator("#login-password").fill(PASSWORD)
    await owner.get_by_role("button", name="Log in").click()
    await expect(owner.locator("#dashboard")).to_be_visible()
    storage = await owner.evaluate(
        "JSON.stringify([{...localStorage}, {...sessionStorage}, document.cookie])")
    assert "voxa_session" not in storage and "eyJ" not in storage  # no token anywhere
    assert "voxa_csrf=" in storage
    await owner.reload()
    await expect(owner.locator("#dashboard")).to_be_visible()
    await expect(owner.locator("#auth")).to_be_hidden()
    await owner.locator("#agent-greeting").fill("Hello {name}, cookie here")
    await owner.get_by_role("button", name="Save settings").click()
    await expect(owner.locator("#agent-status")).to_contain_text("Saved")

    # Another origin on the same site (127.0.0.1, another port: the SameSite
    # cookie IS sent) posts a form at "log out everywhere" in the same browser.
    site = tmp_path / "evil"
    site.mkdir()
    (site / "index.html").write_text(f"""<!doctype html><html lang="en"><head><title>x</title>
        </head><body><form id="f" method="post" enctype="text/plain"
        action="{web_server.base}/v1/auth/logout-all"><input name="a" value="b"></form>
        <script>document.getElementById("f").submit()</script></body></html>""")
    with static_site(site) as evil_url:
        evil = await pages.open(evil_url, context=owner.context)
        await expect(evil.locator("body")).to_contain_text("csrf_failed")
    async with httpx.AsyncClient(base_url=web_server.base) as c:
        r = await c.get("/v1/me", headers={"Authorization": f"Bearer {biz['token']}"})
        assert r.status_code == 200  # nothing was revoked
    await owner.reload()
    await expect(owner.locator("#dashboard")).to_be_visible()

    await owner.get_by_label("Current password").fill(PASSWORD)
    await owner.get_by_label("New password (8 characters or more)").fill("a brand new secret")
    await owner.get_by_role("button", name="Change password").click()
    await expect(owner.locator("#password-status")).to_contain_text("Password changed")
    async with httpx.AsyncClient(base_url=web_server.base) as c:
        r = await c.get("/v1/me", headers={"Authorization": f"Bearer {biz['token']}"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"
    await owner.reload()  # the page got a fresh cookie with the new password
    await expect(owner.locator("#dashboard")).to_be_visible()

    await owner.get_by_role("button", name="Log out everywhere").click()
    await expect(owner.locator("#login-form")).to_be_visible()
    await expect(owner.locator("#dashboard")).to_be_hidden()
    await owner.locator("#login-email").fill(email)
    await owner.locator("#login-password").fill("a brand new secret")
    await owner.get_by_role("button", name="Log in").click()
    await expect(owner.locator("#dashboard")).to_be_visible()
    await owner.get_by_role("button", name="Log out", exact=True).click()
    await expect(owner.locator("#login-form")).to_be_visible()
    await owner.reload()
    await expect(owner.locator("#login-form")).to_be_visible()
    await shot(owner, "11-owner-logged-out")
