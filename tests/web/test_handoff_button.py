"""The chat page's "Talk to a person" button asks the business for a person."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.live_server import LiveServer
from tests.web.conftest import Pages, shot
from tests.web.test_pages import new_business, start_chat

pytestmark = pytest.mark.slow


async def test_customer_asks_for_a_person(pages: Pages, web_server: LiveServer) -> None:
    biz = await new_business(web_server)
    chat = await pages.open(f"/chat/{biz['slug']}")
    ask = chat.get_by_role("button", name="Talk to a person")
    await expect(ask).to_be_hidden()  # only once a conversation is open
    await start_chat(chat, "Hana")
    await ask.click()
    # the banner appears only when the API accepted the request
    await expect(chat.get_by_role("alert")).to_contain_text("asked for a person")
    await expect(ask).to_be_disabled()
    await shot(chat, "20-handoff-requested")
