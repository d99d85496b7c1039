"""The owner joins a customer's voice call from the dashboard in Chromium (its
fake microphone speaks a file), the customer is a real rtc client: the
waiting voice session has a "Join call" button, the owner's browser joins
the customer's room and publishes its microphone under the strict CSP, the
agent says nothing to the customer meanwhile, and after "Leave call" it is
back."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.live_server import LiveServer
from tests.voice.conftest import speech
from tests.voice.helpers import bearer, history, join, start
from tests.web.conftest import CHROMIUM, FLAGS, REPORT_CSP_VIOLATIONS, shot, watch_csp, write_wav
from tests.web.test_pages import PASSWORD, new_business
from voxa.voice.client import VoiceClient

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.voice]


def owner_in_room(customer: VoiceClient) -> bool:
    return any(p.identity.startswith("owner-") and p.track_publications
               for p in customer.room.remote_participants.values())


async def test_the_owner_joins_the_call_from_the_dashboard(web_server: LiveServer,
                                                           tmp_path: Path) -> None:
    biz = await new_business(web_server)
    pcm, rate = await speech("Hello, this is Olu from the shop.")
    wav = write_wav(tmp_path / "owner.wav", pcm, rate)
    clients: list[VoiceClient] = []
    async with httpx.AsyncClient(base_url=web_server.base, timeout=60) as api, \
            async_playwright() as p:
        grant = await start(api, {"role": "customer", "business": biz["slug"],
                                  "customer": {"name": "Ana"}})
        try:
            customer = await join(clients, grant)
            assert await customer.wait_for_turn(90), "the greeting never ended"
            r = await api.post(f"/v1/sessions/{grant['session_id']}/handoff",
                               headers=bearer(grant["session_token"]))
            assert r.status_code == 202, r.text

            browser: Browser = await p.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=[*FLAGS, "--use-fake-ui-for-media-stream",
                      "--use-fake-device-for-media-stream",
                      f"--use-file-for-fake-audio-capture={wav}",
                      "--autoplay-policy=no-user-gesture-required"])
            context = await browser.new_context(base_url=web_server.base,
                                                permissions=["microphone"])
            await context.add_init_script(REPORT_CSP_VIOLATIONS)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            watch_csp(page, errors)
            await page.goto("/owner")
            await page.locator("#login-email").fill(f"owner@{biz['slug']}.example.com")
            await page.locator("#login-password").fill(PASSWORD)
            await page.get_by_role("button", name="Log in").click()
            join_button = page.get_by_role("button", name="Join call")
            await expect(join_button).to_be_visible(timeout=15_000)
            await join_button.click()
            await expect(page.get_by_role("button", name="Leave call")).to_be_visible(
                timeout=30_000)
            assert await customer.wait_for(lambda: owner_in_room(customer), 30), (
                "the owner's browser never published into the customer's room")
            # taken over: the waiting list no longer shows the session
            await expect(join_button).to_be_hidden(timeout=15_000)
            await shot(page, "40-owner-in-call")

            said, said_rate = await speech("Please tell me about the volcano.")
            quiet_from = await customer.say(said, said_rate)
            spoke = await customer.wait_for(
                lambda: customer.agent_audio.voiced_after(quiet_from) is not None, 10)
            assert not spoke, "the agent spoke while the owner was in the call"
            assert (await history(api, grant))[-1]["role"] == "user"

            left = time.monotonic()
            await page.get_by_role("button", name="Leave call").click()
            await expect(page.locator("#owner-call-status")).to_contain_text("left the call")
            assert await customer.wait_for(
                lambda: any("back" in s.lower() for s in customer.agent_said(left)), 60), (
                "the agent did not come back after the owner left")
            await browser.close()
            assert errors == [], errors
        finally:
            for c in clients:
                await c.aclose()
