"""A customer asks for a person in Chromium; the owner's dashboard shows it
at once (pushed), the owner takes the text conversation over from the
transcript view, writes to the customer — whose open chat page shows it
without a reload — while the assistant stays quiet, and hands back."""

from __future__ import annotations

import logging
import time

import pytest
from playwright.async_api import expect

from tests.live_server import LiveServer
from tests.web.conftest import Pages, shot
from tests.web.test_pages import PASSWORD, new_business, say, start_chat

pytestmark = [pytest.mark.slow, pytest.mark.browser]

log = logging.getLogger(__name__)


async def test_owner_takes_a_text_conversation_over_and_hands_back(
        pages: Pages, web_server: LiveServer) -> None:
    biz = await new_business(web_server)
    slug = biz["slug"]
    owner = await pages.open("/owner")
    await owner.locator("#login-email").fill(f"owner@{slug}.example.com")
    await owner.locator("#login-password").fill(PASSWORD)
    await owner.get_by_role("button", name="Log in").click()
    await expect(owner.locator("#handoff-none")).to_be_visible(timeout=15_000)

    chat = await pages.open(f"/chat/{slug}")
    await start_chat(chat, "Hana")
    asked = time.monotonic()
    await chat.get_by_role("button", name="Talk to a person").click()
    waiting = owner.locator("#handoff-list li")
    await expect(waiting).to_have_count(1, timeout=10_000)
    shown_s = time.monotonic() - asked
    log.info("the dashboard showed the request after %.2f s", shown_s)
    assert shown_s < 5, shown_s  # pushed; the target is 2 s, measured well under

    await waiting.get_by_role("button").first.click()  # opens its transcript
    await owner.get_by_role("button", name="Take over").click()
    await expect(owner.locator("#takeover-status")).to_contain_text("You hold this conversation")
    await expect(waiting).to_have_count(0)  # taken: no longer waiting
    await owner.get_by_label("Your message to the customer").fill(
        "Hello Hana, this is Olu from the shop.")
    await owner.get_by_role("button", name="Send to customer").click()

    # the customer's open page shows it, marked as the business's person
    staff = chat.locator(".msg.human_agent")
    await expect(staff).to_contain_text("this is Olu from the shop", timeout=10_000)
    await expect(staff.locator(".who")).to_have_text("Staff")
    replies = await chat.locator(".msg.assistant").count()
    await chat.get_by_label("Your message").fill("Can you keep a cake for me?")
    await chat.get_by_label("Your message").press("Enter")
    await expect(chat.locator(".chat .status")).to_contain_text("A person from the business")
    await expect(owner.locator("#transcript")).to_contain_text("Can you keep a cake for me?",
                                                               timeout=10_000)
    assert await chat.locator(".msg.assistant").count() == replies  # the assistant is quiet
    await shot(owner, "21-owner-takeover")
    await shot(chat, "22-customer-sees-staff")

    await owner.get_by_role("button", name="Hand back to the assistant").click()
    await expect(owner.locator("#takeover-status")).to_contain_text("The assistant is answering")
    await expect(chat.locator(".chat .status")).to_contain_text("The assistant is back",
                                                             timeout=10_000)
    await say(chat, "thanks, and hello again")  # the assistant answers again
