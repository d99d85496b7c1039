"""The voice worker's drain on SIGTERM (``voice.drain``): it waits for the
calls to end, up to its bound, and a second signal stops the wait. The server
is livekit-agents' real ``AgentServer`` whose calls are an event the test sets
(the cluster test drains a real worker with a real call)."""

from __future__ import annotations

import asyncio
from typing import Any

from livekit.agents import AgentServer
from livekit.agents.types import NOT_GIVEN, NotGivenOr

from voxa.voice.drain import drain


class CallsServer(AgentServer):
    def __init__(self) -> None:
        super().__init__()
        self.calls_ended = asyncio.Event()
        self.drain_timeout: Any = None

    @property
    def active_jobs(self) -> list[Any]:
        return [] if self.calls_ended.is_set() else ["a call"]

    async def drain(self, timeout: NotGivenOr[int | None] = NOT_GIVEN) -> None:  # noqa: ASYNC109 - the overridden signature
        self.drain_timeout = timeout
        await asyncio.wait_for(self.calls_ended.wait(), timeout if timeout else None)


async def test_drain_waits_for_the_calls_to_end() -> None:
    server = CallsServer()
    done = asyncio.create_task(drain(server, seconds=30, again=asyncio.Event()))
    await asyncio.sleep(0)
    assert not done.done()
    server.calls_ended.set()
    assert await asyncio.wait_for(done, 5) is True
    assert server.drain_timeout == 30


async def test_a_second_signal_stops_waiting() -> None:
    server, again = CallsServer(), asyncio.Event()
    done = asyncio.create_task(drain(server, seconds=30, again=again))
    await asyncio.sleep(0)
    again.set()
    assert await asyncio.wait_for(done, 5) is False


async def test_the_wait_is_bounded() -> None:
    server = CallsServer()
    assert await asyncio.wait_for(drain(server, seconds=0.2, again=asyncio.Event()), 5) is False
    assert server.drain_timeout == 1  # whole seconds, rounded up
