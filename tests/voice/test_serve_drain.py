"""The single-process ``voxa serve`` stopped the way ``docker stop`` stops it
(SIGTERM to the process) finishes its calls first: the call in progress goes
on and is answered, and the process exits once the caller hangs up."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import SQLITE
from tests.voice.helpers import business, join, start
from voxa.bench.common import serve
from voxa.voice.client import VoiceClient

pytestmark = [pytest.mark.slow, pytest.mark.voice]


@pytest.fixture
async def clients() -> AsyncIterator[list[VoiceClient]]:
    opened: list[VoiceClient] = []
    yield opened
    await asyncio.gather(*(c.aclose() for c in opened), return_exceptions=True)


def _exited(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return waited == pid


async def test_sigterm_lets_the_call_finish_then_exits(
        tmp_path: Path, clients: list[VoiceClient]) -> None:
    env = {"VOXA_WORKER_DRAIN_SECONDS": "120", "VOXA_VOICE_SILENCE_SECONDS": "900"}
    with serve(SQLITE, tmp_path / "data", voice=True, extra_env=env, log_level="INFO") as s:
        async with httpx.AsyncClient(base_url=s.base, timeout=60) as api:
            slug, _ = await business(api, "drainer")
            grant = await start(api, {"role": "customer", "business": slug,
                                      "customer": {"name": "Dee"}})
        c = await join(clients, grant, record_audio=False)
        assert await c.wait_for_turn(60)

        os.kill(s.pid, signal.SIGTERM)
        log = s.data_dir / "serve.log"
        drain_started = time.monotonic()
        assert await c.wait_for(lambda: "worker_draining" in log.read_text(errors="replace"),
                                30), log.read_text(errors="replace")[-3000:]
        # the call goes on: the agent still hears and answers
        await c.send_text("Tell me about apples")
        assert await c.wait_for(lambda: any("apples" in t for t in c.agent_said()), 60), (
            c.agent_said())
        assert c.room.isconnected() and not _exited(s.pid)
        # the caller hangs up: the worker has nothing left, the process exits
        await c.aclose()
        deadline = time.monotonic() + 60
        while not _exited(s.pid):
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            await asyncio.sleep(0.25)
        text = log.read_text(errors="replace")
        assert re.search(r"worker_drained\s.*complete=True", text), text[-3000:]
        # it waited for the caller, not for its bound
        assert time.monotonic() - drain_started < 100
