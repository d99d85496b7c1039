"""Context per turn is the newest 20 messages plus a running summary; the work
per turn does not grow with the length of the conversation."""

from __future__ import annotations

import httpx
from sqlalchemy import insert, update

from tests.helpers import bearer, create_business, start_customer
from voxa.agent.context_window import load_window, maybe_summarize
from voxa.agent.scripted_llm import ScriptedLLM
from voxa.runtime import Runtime
from voxa.sessions.summary import ExtractiveSummarizer
from voxa.storage.models import AgentMessage, AgentSession
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope


async def _fill(rt: Runtime, sid: str, n: int, start: int = 0) -> None:
    async with rt.db() as db:
        await db.execute(insert(AgentMessage), [
            {"session_id": sid, "role": "user" if i % 2 == 0 else "assistant",
             "content": f"fact number {i}. more words" if i % 2 == 0 else f"ok {i}"}
            for i in range(start, start + n)])
        # as a real conversation would, count them on the session
        await db.execute(update(AgentSession).where(AgentSession.session_id == sid).values(
            message_count=AgentSession.message_count + n))
        await db.commit()


async def test_window_and_running_summary(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await create_business(client, "window-co")
    s = await start_customer(client, "window-co")
    sid = s["session_id"]
    await _fill(runtime, sid, 40)
    async with runtime.db() as db:
        row = await sessions_repo.get(db, sid, scope=Scope.system())
        assert row is not None
        assert not await maybe_summarize(db, row, ExtractiveSummarizer())
    await _fill(runtime, sid, 40, start=40)
    async with runtime.db() as db:
        row = await sessions_repo.get(db, sid, scope=Scope.system())
        assert row is not None
        assert await maybe_summarize(db, row, ExtractiveSummarizer())
        await db.commit()
        row = await sessions_repo.get(db, sid, scope=Scope.system())
        assert row is not None
        window = await load_window(db, row)
    assert [m.content for m in window.messages][-1] == "ok 79"
    assert len(window.messages) == 20
    assert window.summary is not None and "fact number 0" in window.summary
    assert "fact number 58" in window.summary and "fact number 60" not in window.summary
    assert row.context_data["summary_upto"] < window.messages[0].id


async def test_long_conversation_prompt_stays_bounded(client: httpx.AsyncClient,
                                                      runtime: Runtime,
                                                      model: ScriptedLLM) -> None:
    seen: list[int] = []
    original = model._script

    def script(chat_ctx, tools):  # type: ignore[no-untyped-def]
        seen.append(len(chat_ctx.items))
        return original(chat_ctx, tools)

    model._script = script
    await create_business(client, "long-co")
    s = await start_customer(client, "long-co")
    await _fill(runtime, s["session_id"], 5000)
    for i in range(3):
        r = await client.post(f"/v1/sessions/{s['session_id']}/messages",
                              json={"text": f"turn {i}"}, headers=bearer(s["session_token"]))
        assert r.status_code == 200
    # system message + at most 20 conversation messages, however long the session
    assert seen and max(seen) <= 21
    async with runtime.db() as db:
        row = await sessions_repo.get(db, s["session_id"], scope=Scope.system())
    assert row is not None and len(row.context_data["summary"]) <= 1500


async def test_summary_fold_keeps_other_context(client: httpx.AsyncClient,
                                                runtime: Runtime) -> None:
    """A fold from a row read earlier writes only the summary keys: a voice job's
    agent_status set in between survives."""
    await create_business(client, "fold-co")
    s = await start_customer(client, "fold-co")
    await _fill(runtime, s["session_id"], 80)

    async def set_status(status: str) -> None:
        async with runtime.db() as db:
            await sessions_repo.merge_context(db, s["session_id"], {"agent_status": status},
                                              scope=Scope.system())
            await db.commit()

    await set_status("running")
    async with runtime.db() as db:
        stale = await sessions_repo.get(db, s["session_id"], scope=Scope.system())
    await set_status("exited")
    assert stale is not None
    async with runtime.db() as db:
        assert await maybe_summarize(db, stale, ExtractiveSummarizer())
        await db.commit()
        row = await sessions_repo.get(db, s["session_id"], scope=Scope.system())
    assert row is not None and row.context_data["agent_status"] == "exited"
    assert row.context_data["summary"]
