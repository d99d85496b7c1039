"""Persists a voice session's turns as they happen and keeps its agent
heartbeat (``agent:{id}:pid``). Writes go through tracked tasks so shutdown
can wait for every one of them."""

from __future__ import annotations

import asyncio
import contextlib
import os

from voxa.domain import SessionStatus
from voxa.kv.keys import agent_pid_key
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.sessions.lifecycle import expire_if_overdue
from voxa.storage.models import AgentMessage
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope

log = get_logger(__name__)


class TranscriptWriter:
    def __init__(self, rt: Runtime, *, session_id: str, user_id: str,
                 business_id: str | None, model: str) -> None:
        self._rt = rt
        self._sid = session_id
        self._scope = Scope.user(user_id, business_id)
        self._model = model
        self._pending: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()  # keeps DB order equal to conversation order
        self.session_ended = asyncio.Event()
        self.written = 0

    def add(self, role: str, text: str, *, latency_ms: int | None = None) -> None:
        text = text.strip()
        if role not in ("user", "assistant") or not text:
            return
        task = asyncio.create_task(self._write(role, text, latency_ms),
                                   name=f"persist-{self._sid}")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, role: str, text: str, latency_ms: int | None) -> None:
        async with self._lock:
            try:
                async with self._rt.db() as db:
                    db.add(AgentMessage(
                        session_id=self._sid, role=role, content=text, latency_ms=latency_ms,
                        model_used=self._model if role == "assistant" else None))
                    if await sessions_repo.add_messages(db, self._sid, 1,
                                                        scope=self._scope) is None:
                        await db.rollback()
                        log.info("turn_dropped_session_ended", role=role)
                        self.session_ended.set()
                        return
                    await db.commit()
                self.written += 1
                log.info("turn_persisted", role=role, chars=len(text))
            except Exception:
                log.exception("turn_persist_failed", role=role)

    async def flush(self) -> None:
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)


class Heartbeat:
    """Refreshes ``agent:{id}:pid`` (the job process id) while the job lives,
    and re-checks at each beat that the session is still active: a session
    ended or timed out elsewhere (API, cleanup) sets ``session_over`` and the
    job leaves, even when LiveKit could not be told to delete the room. A
    session past its maximum age is timed out here, through the lifecycle,
    rather than at the next cleanup run (hourly by default)."""

    def __init__(self, rt: Runtime, session_id: str) -> None:
        self._rt = rt
        self._sid = session_id
        self._interval = rt.settings.agent_heartbeat_seconds
        self._task: asyncio.Task[None] | None = None
        self.session_over = asyncio.Event()

    async def _still_active(self) -> bool:
        async with self._rt.db() as db:
            row = await sessions_repo.get(db, self._sid, scope=Scope.system())
        if row is None:
            return False
        row = await expire_if_overdue(self._rt, row)
        return row.status == SessionStatus.active

    async def _beat(self) -> None:
        while True:
            try:
                if not await self._still_active():
                    log.info("agent_leaving", reason="session no longer active")
                    self.session_over.set()
                    return
                await self._rt.store.set(agent_pid_key(self._sid), str(os.getpid()),
                                         ttl=self._interval * 3)
            except Exception:
                log.exception("heartbeat_failed")
            await asyncio.sleep(self._interval)

    async def claim(self) -> bool:
        """Take the session: False when another live agent already holds it."""
        return await self._rt.store.set_if_absent(agent_pid_key(self._sid), str(os.getpid()),
                                                  ttl=self._interval * 3)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._beat(), name=f"heartbeat-{self._sid}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._rt.store.delete(agent_pid_key(self._sid))
