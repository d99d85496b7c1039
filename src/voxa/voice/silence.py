"""A caller who says nothing cannot hold a job slot: the job watches the time
since the caller's last turn (speech the agent heard, or room text it took)
and ends the session (reason ``silence``) after ``voice_silence_seconds``.
The agent's own speech is not activity: an agent talking to an empty line
must not keep the line open."""

from __future__ import annotations

import asyncio
import contextlib
import time

from livekit.agents import AgentSession

from voxa.domain import SessionStatus
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.sessions.lifecycle import close_session
from voxa.storage.models import AgentSession as SessionRow
from voxa.storage.scope import Scope
from voxa.voice.transcript import TranscriptWriter

log = get_logger(__name__)

GOODBYE = "I haven't heard from you in a while, so I'll end the call now. Goodbye!"


class SilenceWatch:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = asyncio.Event()
        self._last = time.monotonic()
        self._paused = False
        self._task: asyncio.Task[None] | None = None

    def activity(self) -> None:
        """The caller took a turn: the timer starts again."""
        self._last = time.monotonic()

    def pause(self) -> None:
        """The timer stands still (the business's owner is talking with the caller)."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._last = time.monotonic()

    def start(self) -> None:
        self._last = time.monotonic()
        self._task = asyncio.create_task(self._watch(), name="silence-watch")

    async def _watch(self) -> None:
        while True:
            if self._paused:
                self._last = time.monotonic()
            left = self._last + self.seconds - time.monotonic()
            if left <= 0:
                self.expired.set()
                return
            await asyncio.sleep(left)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def end_for_silence(rt: Runtime, row: SessionRow, session: AgentSession[None],
                          writer: TranscriptWriter) -> None:
    """Say goodbye, keep it in the transcript, then end the session through the
    one lifecycle (which also deletes the room and so disconnects the caller)."""
    log.info("caller_silent", seconds=rt.settings.voice_silence_seconds)
    try:
        handle = session.say(GOODBYE, allow_interruptions=False)
        await asyncio.wait_for(handle.wait_for_playout(), 30)
    except Exception as exc:  # the goodbye is a courtesy; the ending is not optional
        log.warning("goodbye_not_played", error=repr(exc))
    await writer.flush()
    await close_session(rt, row.session_id, scope=Scope.owning(row), role=row.role,
                        status=SessionStatus.ended, reason="silence")
