"""Text turns: one turn through the conversation pipeline (``pipeline.py``,
the same path a voice turn takes) with the reply persisted before it is
acknowledged.

Turns of one session are serialized across every API process (a lease in
the shared store, a bounded waiting line, a fencing number in the database —
see ``turn_lease``); a ``client_message_id`` (unique per session in the
database) makes a retry return the stored result instead of running twice.
While a voice agent answers the session, text turns are refused: one
conversation has one answering agent. The LLM is shared by all sessions; no
database connection is held while the model thinks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from livekit.agents import llm

from voxa.agent.assistant import VoxaAssistant, build_assistant
from voxa.agent.generation import OnDelta
from voxa.agent.pipeline import TurnPipeline
from voxa.agent.turn_lease import TurnLeases
from voxa.domain import SessionStatus
from voxa.errors import Conflict, Gone
from voxa.kv.keys import agent_pid_key, business_version_key
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.sessions.lifecycle import expire_if_overdue
from voxa.sessions.summary import Summarizer
from voxa.sessions.takeover import taken_over
from voxa.storage.models import AgentMessage, AgentSession
from voxa.tracing import session_attributes, start_wait_span, traced

log = get_logger(__name__)

__all__ = ["OnDelta", "TextTurns", "TurnResult"]


@dataclass(frozen=True, slots=True)
class TurnResult:
    message: AgentMessage
    reply: AgentMessage | None  # None while a person has taken the conversation over
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class _CachedAssistant:
    expires: float
    version: str  # the business's settings version it was built with
    assistant: VoxaAssistant


class TextTurns:
    """Runs text turns for every session of this process."""

    def __init__(self, rt: Runtime, model: llm.LLM[Any], *,
                 summarizer: Summarizer | None = None) -> None:
        self.rt = rt
        self.pipeline = TurnPipeline(rt, model, summarizer=summarizer)
        self._leases = TurnLeases(rt.store)
        self._background: set[asyncio.Task[TurnResult]] = set()
        # Each session's assistant (persona + tools bound to it), kept while the
        # conversation is active: building one costs two queries and tool set-up.
        # Its business's settings version is checked every turn, so an owner's
        # change reaches the next turn on every replica.
        self._assistants: OrderedDict[str, _CachedAssistant] = OrderedDict()

    @property
    def llm(self) -> llm.LLM[Any]:
        return self.pipeline.llm

    @property
    def model_name(self) -> str:
        return self.pipeline.model_name

    # -- serialization ------------------------------------------------------
    def _turn_slot(self, session_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        s = self.rt.settings
        return self._leases.hold(session_id, queue_limit=s.turn_queue_limit,
                                 wait_seconds=s.turn_wait_seconds,
                                 lease_seconds=s.turn_lease_seconds)

    async def _refuse_if_voice_agent(self, row: AgentSession) -> None:
        """A voice agent answering this session would not see a text turn
        answered beside it: refuse instead of answering in parallel."""
        if await self.rt.store.exists(agent_pid_key(row.session_id)):
            raise Conflict("a voice agent is answering this session; speak to it, or "
                           "send text once the call has ended", code="voice_agent_active")

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
        await self._refuse_if_voice_agent(row)
        waiting = start_wait_span("voxa.turn.lock_wait")  # the session's and the model's lines
        try:
            async with self._turn_slot(row.session_id):
                slot = await self.pipeline.model_slot(row, overrides)
                waiting.end()
                try:
                    return await self._turn(row, text, client_message_id, on_delta,
                                            on_accepted)
                finally:
                    await slot.release()
        finally:
            if waiting.is_recording():  # refused while waiting: the wait still ends
                waiting.end()

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

    async def _settings_version(self, row: AgentSession) -> str:
        if row.business_id is None:
            return ""
        return await self.rt.store.get(business_version_key(row.business_id)) or ""

    async def _assistant(self, row: AgentSession) -> VoxaAssistant:
        now = time.monotonic()
        version = await self._settings_version(row)
        hit = self._assistants.get(row.session_id)
        if hit is not None and hit.expires > now and hit.version == version:
            self._assistants.move_to_end(row.session_id)
            return hit.assistant
        assistant = await build_assistant(self.rt, row)
        self._assistants[row.session_id] = _CachedAssistant(now + self.ASSISTANT_TTL, version,
                                                            assistant)
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
        accepted = await self.pipeline.accept(row, text, cmid)
        message = accepted.message
        if accepted.reply is not None:
            return TurnResult(message, accepted.reply, replayed=True)
        if on_accepted is not None:
            await on_accepted(message)
        if taken_over(row.context_data):
            # A person answers; the message waits in the transcript for them.
            return TurnResult(message, None)
        assistant = await self._assistant(row)
        reply, _ = await self.pipeline.answer(assistant, row, message, channel="text",
                                              on_delta=on_delta, started=started,
                                              fence=accepted.fence)
        return TurnResult(message, reply)
