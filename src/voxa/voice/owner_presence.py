"""The business's owner in a customer's call: the agent stays silent.

An owner joins with a token from ``POST /v1/sessions/{id}/join-call``
(identity ``owner-<user id>``, role attribute ``human_agent``). From the moment
the first owner is in the room until the last one leaves:

- the agent's current speech is interrupted and it starts no reply;
- the customer's turns are still transcribed, persisted as ``user`` messages
  and kept in the agent's context (so it knows what was said when it resumes);
- the session reads as taken over (``context_data["handoff"]``), the same state
  the text takeover writes, so the text side and the dashboard agree;
- the silence timer does not run (a customer listening to the owner is not
  an abandoned line).

When the last owner leaves, the session is handed back and the agent says a
short line (``owner_call_resume_line``) and answers again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, llm

from voxa.infra.livekit_tokens import OWNER_CALL_PREFIX, is_owner_in_call
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.sessions import handoff_feed, takeover
from voxa.storage.models import AgentSession as SessionRow
from voxa.voice.silence import SilenceWatch

log = get_logger(__name__)


async def wait_for_caller(room: rtc.Room) -> rtc.RemoteParticipant:
    """The first standard participant who is not an owner joined to the call.
    An owner may be in the room before the agent (an agent restarted after a
    worker crash, or an owner quicker than the customer): that participant is
    never the caller the job serves."""
    arrived: asyncio.Queue[rtc.RemoteParticipant] = asyncio.Queue()
    put = arrived.put_nowait
    room.on("participant_connected", put)
    try:
        for participant in list(room.remote_participants.values()):
            put(participant)
        while True:
            participant = await arrived.get()
            if participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD \
                    and not is_owner_in_call(participant.identity, participant.attributes):
                return participant
    finally:
        room.off("participant_connected", put)


class OwnerPresence:
    def __init__(self, rt: Runtime, row: SessionRow, *,
                 keep: Callable[[llm.ChatMessage], Awaitable[None]],
                 silence: SilenceWatch) -> None:
        self._rt = rt
        self._row = row
        self._keep = keep  # persists a turn through the pipeline
        self._silence = silence
        self._session: AgentSession[None] | None = None
        self._owners: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # state writes in the order the owners came and went
        self._lock = asyncio.Lock()
        self.held_turns = 0

    @property
    def present(self) -> bool:
        return bool(self._owners)

    def watch(self, room: rtc.Room, session: AgentSession[None]) -> None:
        """Follow owners joining and leaving ``room`` (one already there counts)."""
        self._session = session
        room.on("participant_connected", self._joined)
        room.on("participant_disconnected", self._left)
        for participant in list(room.remote_participants.values()):
            self._joined(participant)

    async def hold_turn(self, message: llm.ChatMessage) -> bool:
        """The turn hook (spoken turns and room text): True when the owner is
        in the room and the agent must not answer; the turn is then persisted
        and kept in the agent's context here."""
        if not self.present:
            return False
        text = message.text_content or ""
        if not text.strip():
            return True
        await self._keep(message)
        self.held_turns += 1
        if self._session is not None:
            # in the agent's context too, for when it answers again
            agent = self._session.current_agent
            kept = agent.chat_ctx.copy()
            kept.items.append(message)
            await agent.update_chat_ctx(kept)
        return True

    async def aclose(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _joined(self, participant: rtc.RemoteParticipant) -> None:
        if not is_owner_in_call(participant.identity, participant.attributes):
            return
        first = not self._owners
        self._owners.add(participant.identity)
        if not first:
            return
        log.info("owner_joined_call", identity=participant.identity)
        self._silence.pause()
        if self._session is not None:
            try:
                self._session.interrupt(force=True)
            except RuntimeError as exc:  # not running yet or already closing
                log.info("owner_joined_no_interrupt", error=str(exc))
        owner_id = participant.identity.removeprefix(OWNER_CALL_PREFIX)
        self._spawn(self._mark(taken_by=owner_id))

    def _left(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity not in self._owners:
            return
        self._owners.discard(participant.identity)
        if self._owners:
            return
        log.info("owner_left_call", identity=participant.identity, held_turns=self.held_turns)
        self._silence.resume()
        self._spawn(self._mark(taken_by=None))
        line = self._rt.settings.owner_call_resume_line
        if line and self._session is not None:
            try:
                self._session.say(line, add_to_chat_ctx=True)
            except RuntimeError as exc:  # the session is closing: nobody to speak to
                log.info("resume_line_not_said", error=str(exc))

    async def _mark(self, *, taken_by: str | None) -> None:
        async with self._lock:
            async with self._rt.db() as db:
                if taken_by is not None:
                    await takeover.take_over(db, self._row, owner_id=taken_by)
                else:
                    await takeover.hand_back(db, self._row)
                await db.commit()
            if self._row.business_id is not None:
                await handoff_feed.bump(self._rt.store, self._row.business_id)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._logged(work), name="owner-presence")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception as exc:  # the call goes on; the dashboard state lags
            log.warning("owner_presence_state_not_saved", error=repr(exc))
