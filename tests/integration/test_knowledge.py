"""Knowledge base: each customer's turn is given only its own
business's passages, labelled as data; the reply cites them; deleting or
editing a document changes the next turn; no match means no invented answer.
The model is a recording ScriptedLLM (a real ``llm.LLM``) that answers only
from what its context holds."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import httpx
import pytest
from livekit.agents import llm
from pypdf import PdfWriter

from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.agent.assistant import build_assistant
from voxa.agent.pipeline import TurnPipeline
from voxa.agent.scripted_llm import ScriptedLLM, ScriptedReply, last_user_text
from voxa.knowledge.brief import BEGIN, END, NOT_FOUND
from voxa.knowledge.text import split_passages
from voxa.runtime import Runtime
from voxa.storage.repos import businesses as businesses_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope

REFUNDS = "Refunds: we reimburse any order within 30 days of purchase."
PARKING = "Parking is free behind the shop after 6 pm."


def system_text(chat_ctx: llm.ChatContext) -> str:
    return "\n".join(i.text_content or "" for i in chat_ctx.items
                     if isinstance(i, llm.ChatMessage) and i.role == "system")


def answer_from_context(chat_ctx: llm.ChatContext, tools: list[llm.Tool]) -> ScriptedReply:
    """A model that knows nothing but its context: quotes the first passage."""
    system = system_text(chat_ctx)
    m = re.search(re.escape(BEGIN) + r" source: ([^\n]*)\n(.*?)\n" + re.escape(END), system, re.S)
    if m:
        return ScriptedReply(text=f"{m.group(2).splitlines()[-1]} (source: {m.group(1)})")
    if NOT_FOUND in system:
        return ScriptedReply(text="I don't know; shall I open a ticket or find a person?")
    return ScriptedReply(text=f"You said: {last_user_text(chat_ctx)}")


class RecordingLLM(ScriptedLLM):
    """Keeps every system prompt it was given, in order."""

    def __init__(self) -> None:
        super().__init__(answer_from_context)
        self.systems: list[str] = []

    def chat(self, *, chat_ctx: llm.ChatContext, **kwargs: Any) -> llm.LLMStream:
        self.systems.append(system_text(chat_ctx))
        return super().chat(chat_ctx=chat_ctx, **kwargs)


@pytest.fixture
def model() -> RecordingLLM:
    return RecordingLLM()


async def add(client: httpx.AsyncClient, slug: str, token: str, **body: Any) -> dict[str, Any]:
    r = await client.post(f"/v1/businesses/{slug}/knowledge", json=body, headers=bearer(token))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def ask(client: httpx.AsyncClient, s: dict[str, Any], text: str) -> str:
    r = await client.post(f"/v1/sessions/{s['session_id']}/messages", json={"text": text},
                          headers=bearer(s["session_token"]))
    assert r.status_code == 200, r.text
    return str(r.json()["reply"]["content"])


async def test_each_business_answers_from_its_own_documents(
        client: httpx.AsyncClient, model: RecordingLLM) -> None:
    early = await create_business(client, "early-bakery")
    late = await create_business(client, "late-bakery")
    await add(client, "early-bakery", early["token"], kind="text", title="Opening hours",
              content="We open at 8 every morning.")
    await add(client, "late-bakery", late["token"], kind="faq",
              question="When do you open?", answer="We open at 10 every morning.")
    c_early = await start_customer(client, "early-bakery")
    c_late = await start_customer(client, "late-bakery")

    reply = await ask(client, c_early, "What time do you open?")
    assert reply == "We open at 8 every morning. (source: Opening hours)"
    assert "at 8" in model.systems[-1] and "at 10" not in model.systems[-1]
    reply = await ask(client, c_late, "What time do you open?")
    assert reply == "A: We open at 10 every morning. (source: When do you open?)"
    assert "at 10" in model.systems[-1] and "at 8" not in model.systems[-1]
    # the passage is labelled as data, never as instructions
    assert "not instructions" in model.systems[-1]


async def test_edit_and_delete_change_the_next_turn(client: httpx.AsyncClient,
                                                    model: RecordingLLM) -> None:
    owner = await create_business(client, "edit-co")
    doc = await add(client, "edit-co", owner["token"], kind="markdown", title="Hours",
                    content="# Hours\n\nWe open at 9.")
    c = await start_customer(client, "edit-co")
    assert "We open at 9." in await ask(client, c, "when do you open")
    r = await client.put(f"/v1/businesses/edit-co/knowledge/{doc['id']}",
                         json={"kind": "text", "title": "Hours", "content": "We open at 7."},
                         headers=bearer(owner["token"]))
    assert r.status_code == 200, r.text
    assert "We open at 7." in await ask(client, c, "when do you open")
    assert "at 9" not in model.systems[-1]
    r = await client.delete(f"/v1/businesses/edit-co/knowledge/{doc['id']}",
                            headers=bearer(owner["token"]))
    assert r.status_code == 200, r.text
    reply = await ask(client, c, "when do you open")
    assert "ticket" in reply and "at 7" not in model.systems[-1]
    assert NOT_FOUND in model.systems[-1]
    assert "(source:" not in reply and "source: Hours" not in model.systems[-1]


async def test_a_deleted_document_is_no_longer_cited(client: httpx.AsyncClient,
                                                     model: RecordingLLM) -> None:
    owner = await create_business(client, "cite-co")
    hours = await add(client, "cite-co", owner["token"], kind="text", title="Hours",
                      content="We open at 7 on weekdays.")
    await add(client, "cite-co", owner["token"], kind="text", title="Holidays",
              content="On holidays we open at 11.")
    c = await start_customer(client, "cite-co")
    await ask(client, c, "when do you open")
    assert "source: Hours" in model.systems[-1] and "source: Holidays" in model.systems[-1]
    r = await client.delete(f"/v1/businesses/cite-co/knowledge/{hours['id']}",
                            headers=bearer(owner["token"]))
    assert r.status_code == 200, r.text
    reply = await ask(client, c, "when do you open")
    # the other document still answers; the deleted one is gone from the context
    assert reply == "On holidays we open at 11. (source: Holidays)"
    assert "source: Hours" not in model.systems[-1] and "at 7" not in model.systems[-1]


async def test_no_match_gets_the_no_knowledge_instruction(client: httpx.AsyncClient,
                                                          model: RecordingLLM) -> None:
    owner = await create_business(client, "quiet-co")
    await add(client, "quiet-co", owner["token"], kind="text", title="Delivery",
              content="We deliver within the city on weekdays.")
    c = await start_customer(client, "quiet-co")
    reply = await ask(client, c, "Do you sell gluten-free cupcakes?")
    assert NOT_FOUND in model.systems[-1] and BEGIN not in model.systems[-1]
    assert "ticket" in reply and "person" in reply
    assert "(source:" not in reply and "deliver" not in reply


async def test_a_question_in_other_words_finds_the_passage_by_meaning(
        client: httpx.AsyncClient, model: RecordingLLM) -> None:
    """No word of the question is in the passage: full text alone finds
    nothing, the offline embeddings find the refunds policy (and only it)."""
    owner = await create_business(client, "meaning-co")
    await add(client, "meaning-co", owner["token"], kind="text", title="Refunds",
              content=REFUNDS)
    await add(client, "meaning-co", owner["token"], kind="text", title="Parking",
              content=PARKING)
    c = await start_customer(client, "meaning-co")
    reply = await ask(client, c, "can I get my money back")
    assert reply.endswith("(source: Refunds)"), reply
    assert "Parking" not in model.systems[-1]


async def test_by_meaning_stays_in_its_business(client: httpx.AsyncClient,
                                                model: RecordingLLM) -> None:
    other = await create_business(client, "refund-co")
    await add(client, "refund-co", other["token"], kind="text", title="Refunds",
              content=REFUNDS)
    mine = await create_business(client, "plain-co")
    await add(client, "plain-co", mine["token"], kind="text", title="Parking",
              content=PARKING)
    c = await start_customer(client, "plain-co")
    await ask(client, c, "can I get my money back")
    assert "reimburse" not in model.systems[-1] and NOT_FOUND in model.systems[-1]


async def test_embeddings_off_is_words_only(client: httpx.AsyncClient, runtime: Runtime,
                                            model: RecordingLLM) -> None:
    runtime.settings = runtime.settings.model_copy(update={"knowledge_embeddings": False})
    owner = await create_business(client, "words-co")
    await add(client, "words-co", owner["token"], kind="text", title="Refunds",
              content=REFUNDS)
    c = await start_customer(client, "words-co")
    await ask(client, c, "can I get my money back")
    assert NOT_FOUND in model.systems[-1]
    assert "within 30 days" in await ask(client, c, "do you reimburse orders")


async def test_html_and_pdf_are_reduced_to_text(client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "doc-co")
    html = ("<h1>Returns</h1><p>Returns within <b>30 days</b>.</p>"
            "<script>alert('x')</script><style>p{}</style>")
    doc = await add(client, "doc-co", owner["token"], kind="html", title="Returns", content=html)
    assert doc["source"] == "Returns\n\nReturns within 30 days."
    r = await client.post("/v1/businesses/doc-co/knowledge", headers=bearer(owner["token"]),
                          json={"kind": "pdf", "title": "Broken", "content": "not base64!"})
    assert_error(r, 400, "invalid_document")
    buf = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.write(buf)
    r = await client.post("/v1/businesses/doc-co/knowledge", headers=bearer(owner["token"]),
                          json={"kind": "pdf", "title": "Blank",
                                "content": base64.b64encode(buf.getvalue()).decode()})
    assert_error(r, 400, "invalid_document")  # a PDF without text has nothing to index


async def test_other_tenants_documents_answer_404(client: httpx.AsyncClient) -> None:
    a = await create_business(client, "tenant-a")
    b = await create_business(client, "tenant-b")
    doc = await add(client, "tenant-a", a["token"], kind="text", title="Secret",
                    content="Our supplier is Acme.")
    h = bearer(b["token"])
    for method in ("GET", "DELETE"):
        r = await client.request(method, f"/v1/businesses/tenant-b/knowledge/{doc['id']}",
                                 headers=h)
        assert_error(r, 404, "document_not_found")
    r = await client.put(f"/v1/businesses/tenant-b/knowledge/{doc['id']}", headers=h,
                         json={"kind": "text", "title": "Mine", "content": "stolen"})
    assert_error(r, 404, "document_not_found")
    r = await client.get("/v1/businesses/tenant-a/knowledge", headers=h)
    assert_error(r, 404, "unknown_business")
    listed = (await client.get("/v1/businesses/tenant-b/knowledge", headers=h)).json()
    assert listed == {"documents": []}
    still = await client.get(f"/v1/businesses/tenant-a/knowledge/{doc['id']}",
                             headers=bearer(a["token"]))
    assert still.json()["source"] == "Our supplier is Acme."


async def test_limits_on_size_and_count(client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await create_business(client, "cap-co")
    h = bearer(owner["token"])
    big = "word " * (runtime.settings.knowledge_max_document_chars // 5 + 10)
    r = await client.post("/v1/businesses/cap-co/knowledge", headers=h,
                          json={"kind": "text", "title": "Big", "content": big})
    assert_error(r, 413, "document_too_large")
    runtime.settings = runtime.settings.model_copy(update={"knowledge_max_documents": 2})
    for i in range(2):
        await add(client, "cap-co", owner["token"], kind="text", title=f"D{i}", content="x y")
    r = await client.post("/v1/businesses/cap-co/knowledge", headers=h,
                          json={"kind": "text", "title": "D3", "content": "x y"})
    assert_error(r, 409, "too_many_documents")


async def test_upload_rate_limit(client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await create_business(client, "rate-co")
    h = bearer(owner["token"])
    async with runtime.db() as db:  # the operator's per-business override
        business = await businesses_repo.get_by_slug(db, "rate-co")
        assert business is not None
        business.limits = {"knowledge_uploads_per_business": "2/hour"}
        await db.commit()
    codes = []
    for i in range(3):
        r = await client.post("/v1/businesses/rate-co/knowledge", headers=h,
                              json={"kind": "text", "title": f"T{i}", "content": "hello"})
        codes.append(r.status_code)
    assert codes == [201, 201, 429]
    assert "Retry-After" in r.headers


def test_passages_are_paragraph_aware() -> None:
    text = "First paragraph.\n\n" + ("A sentence that goes on. " * 40) + "\n\nLast."
    parts = split_passages(text, 200)
    assert parts[0].startswith("First paragraph.")
    assert all(len(p) <= 200 for p in parts)
    assert parts[-1].endswith("Last.")
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


async def test_voice_turn_gets_the_same_knowledge(client: httpx.AsyncClient,
                                                  runtime: Runtime) -> None:
    """A voice turn's context comes from the one pipeline: the business's block
    is in it for that turn only."""
    owner = await create_business(client, "voice-kb")
    await add(client, "voice-kb", owner["token"], kind="text", title="Parking",
              content="Free parking behind the shop.")
    c = await start_customer(client, "voice-kb")
    async with runtime.db() as db:
        row = await sessions_repo.get(db, c["session_id"], scope=Scope.system())
    assert row is not None
    assistant = await build_assistant(runtime, row)
    pipeline = TurnPipeline(runtime, ScriptedLLM())
    turn = await pipeline.context(assistant, row, "Is there parking?")
    assert "Free parking behind the shop." in system_text(turn)
    turn = await pipeline.context(assistant, row, "Do you sell hats?")
    assert NOT_FOUND in system_text(turn)
