"""The shared local model server: busy is not dead, dead is restarted."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from livekit.agents import llm

from voxa.agent.local_server import LocalModelServer
from voxa.agent.models import MODEL_CONN_OPTIONS, openai_compatible

pytestmark = pytest.mark.slow


async def _ask(model: llm.LLM, text: str) -> str:  # type: ignore[type-arg]
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="user", content=text)
    parts = []
    async with model.chat(chat_ctx=ctx, conn_options=MODEL_CONN_OPTIONS) as stream:
        async for chunk in stream:
            if chunk.delta and chunk.delta.content:
                parts.append(chunk.delta.content)
    return "".join(parts)


async def test_watchdog_keeps_a_busy_server_and_restarts_a_dead_one(tmp_path: Path) -> None:
    server = LocalModelServer(log_dir=tmp_path, check_interval=0.5)
    await server.start()
    model = openai_compatible(model="m", base_url=server.base_url, api_key=None,
                              max_tokens=150)
    try:
        # Several long generations queue at the one server for several probe
        # intervals: all complete, none is interrupted, no restart.
        replies = await asyncio.gather(*(_ask(model, f"Tell a long story about a {w}.")
                                         for w in ("cat", "ship", "tree", "lamp")))
        assert all(r.strip() for r in replies)
        assert server.restarts == 0
        # A dead server is replaced.
        old = server.pid
        assert old is not None
        os.killpg(old, signal.SIGKILL)
        for _ in range(120):
            if server.restarts == 1:
                break
            await asyncio.sleep(0.5)
        assert server.restarts == 1 and server.pid != old
        assert (await _ask(model, "Say hello.")).strip()
    finally:
        await model.aclose()
        await server.stop()


async def test_a_local_reply_stops_at_its_token_budget(tmp_path: Path) -> None:
    # llama-cpp's server ignores `max_completion_tokens`; an unbounded reply ran
    # to the context limit (minutes on these cores) before `max_tokens` was sent.
    server = LocalModelServer(log_dir=tmp_path)
    await server.start()
    model = openai_compatible(model="m", base_url=server.base_url, api_key=None,
                              max_tokens=12)
    try:
        ctx = llm.ChatContext.empty()
        ctx.add_message(role="user", content="Tell a very long story about a dragon.")
        # llama-cpp streams one token per chunk (and no usage chunk).
        tokens = 0
        async with model.chat(chat_ctx=ctx, conn_options=MODEL_CONN_OPTIONS) as stream:
            async for chunk in stream:
                if chunk.delta and chunk.delta.content:
                    tokens += 1
        assert 0 < tokens <= 12
    finally:
        await model.aclose()
        await server.stop()
