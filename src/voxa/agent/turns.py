"""Text turns: one turn through the conversation pipeline (``pipeline.py``,
the same path a voice turn takes) with the reply persisted before it is
acknowledged.

Turns of one session are serialized (a waiting line with a bound); a
``client_message_id`` makes a retry return the stored result instead of
running twice. The LLM is shared by all sessions; no database connection is
held while the model thinks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import llm

from voxa.agent.assistant import VoxaAssistant, build_assistant
from voxa.agent.generation import OnDelta
from voxa.agent.pipeline import TurnPipeline
from voxa.domain import SessionStatus
from voxa.errors import Busy, Gone
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.sessions.lifecycle import expire_if_overdue
from voxa.sessions.summary import Summarizer
from voxa.storage.models import AgentMessage, AgentSession
from voxa.tracing import session_attributes, start_wait_span, traced

log = get_logger(__name__)

__all__ = ["OnDelta", "TextTurns", "TurnResult"]


@dataclass(frozen=True, slots=True)
class TurnResult:
    message: AgentMessage
    reply: AgentMessage
    replayed: bool = False


@dataclass
class _Gate:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class TextTurns:
    """Runs text turns for every session of this process."""

    def __init__(self, rt: Runtime, model: llm.LLM[Any], *,
                 summarizer: Summarizer | None = None) -> None:
        self.rt = rt
        self.pipeline = TurnPipeline(rt, model, summarizer=summarizer)
        self._gates: dict[str, _Gate] = {}
        self._background: set[asyncio.Task[TurnResult]] = set()
        # Each session's assistant (persona + tools bound to it), kept while the
        # conversation is active: building one costs two queries and tool set-up.
        self._assistants: OrderedDict[str, tuple[float, VoxaAssistant]] = OrderedDict()

    @property
    def llm(self) -> llm.LLM[Any]:
        return self.pipeline.llm

    @property
    def model_name(self) -> str:
        return self.pipeline.model_name

    # -- serialization ------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _turn_slot(self, session_id: str) -> AsyncIterator[None]:
        s = self.rt.settings
        gate = self._gates.setdefault(session_id, _Gate())
        if gate.users > s.turn_queue_limit:
            raise Busy("too many messages waiting on this session; retry shortly",
                       code="session_busy", retry_after=1)
        gate.users += 1
        try:
            try:
                await asyncio.wait_for(gate.lock.acquire(), s.turn_wait_seconds)
            except TimeoutError as exc:
                raise Busy("the previous message is still being answered; retry shortly",
                           code="session_busy", retry_after=1) from exc
            try:
                yield
            finally:
                gate.lock.release()
        finally:
            gate.users -= 1
            if gate.users == 0:
                self._gates.pop(session_id, None)

    # -- public entry points ------------------------------------------------
    @traced("voxa.turn", lambda self, row, *_, **__: {
        **session_attributes(row.session_id, row.business_id, row.role), "channel": "text"})
    async def send(self, row: AgentSession, text: str, client_message_id: str | None = None,
                   on_delta: OnDelta | None = None,
                   on_accepted: Callable[[AgentMessage], Awaitable[None]] | None = None,
                   ) -> TurnResult:
        """One turn. The turn limits (429) come first; a place in the model's
        line (503) is taken once the session's previous turn is done (turns
        waiting on their own session are bounded by ``turn_queue_limit``);
        both before anything of the turn is written."""
        overrides = await self.pipeline.admit(row)
        waiting = start_wait_span("voxa.turn.lock_wait")  # the session's and the model's lines
        async with self._turn_slot(row.session_id):
            slot = await self.pipeline.model_slot(row, overrides)
            waiting.end()
            try:
                return await self._turn(row, text, client_message_id, on_delta, on_accepted)
            finally:
                await slot.release()

    def send_in_background(self, row: AgentSession, text: str, client_message_id: str | None,
                           on_delta: OnDelta, on_accepted: Callable[[AgentMessage],
                                                                    Awaitable[None]],
                           ) -> asyncio.Task[TurnResult]:
        """A turn that finishes (and persists) even if the streaming client leaves."""
        task = asyncio.create_task(self.send(row, text, client_message_id, on_delta,
                                             on_accepted), name=f"turn-{row.session_id}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def aclose(self) -> None:
        for task in list(self._background):
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 30)

    ASSISTANT_TTL = 300.0
    MAX_ASSISTANTS = 2_000

    async def _assistant(self, row: AgentSession) -> VoxaAssistant:
        now = time.monotonic()
        hit = self._assistants.get(row.session_id)
        if hit is not None and hit[0] > now:
            self._assistants.move_to_end(row.session_id)
            return hit[1]
        assistant = await build_assistant(self.rt, row)
        self._assistants[row.session_id] = (now + self.ASSISTANT_TTL, assistant)
        while len(self._assistants) > self.MAX_ASSISTANTS:
            self._assistants.popitem(last=False)
        return assistant

    def forget_session(self, session_id: str) -> None:
        self._assistants.pop(session_id, None)

    # -- one turn -----------------------------------------------------------
    async def _turn(self, row: AgentSession, text: str, cmid: str | None,
                    on_delta: OnDelta | None,
                    on_accepted: Callable[[AgentMessage], Awaitable[None]] | None,
                    ) -> TurnResult:
        started = time.perf_counter()
        row = await expire_if_overdue(self.rt, row)
        if row.status != SessionStatus.active:
            raise Gone("the session has ended; start a new one", code="session_ended")
        message, reply = await self.pipeline.accept(row, text, cmid)
        if reply is not None:
            return TurnResult(message, reply, replayed=True)
        if on_accepted is not None:
            await on_accepted(message)
        assistant = await self._assistant(row)
        reply, _ = await self.pipeline.answer(assistant, row, message, channel="text",
                                              on_delta=on_delta, started=started)
        return TurnResult(message, reply)
