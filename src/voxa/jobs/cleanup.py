"""The cleanup job: times out inactive and over-age sessions,
deletes their cache keys, marks agents whose heartbeat stopped as stale, and
deletes the recorded audio of sessions that ended more than
``VOXA_AUDIO_RETENTION_DAYS`` ago.

Idempotent and safe to run twice at once: a store lock lets one runner work
at a time, and each session is timed out by a conditional UPDATE, so even
without the lock no session is processed twice.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from voxa.domain import SessionStatus
from voxa.kv.keys import agent_pid_key
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.sessions.lifecycle import close_session
from voxa.storage.repos import messages as messages_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.session_state import SessionState
from voxa.storage.tenancy import db_scope
from voxa.storage.types import utcnow

log = get_logger(__name__)

LOCK_KEY = "jobs:cleanup:lock"


@dataclass
class CleanupReport:
    timed_out: list[str] = field(default_factory=list)
    stale_agents: list[str] = field(default_factory=list)
    audio_deleted: int = 0  # blobs of sessions past the audio retention
    skipped: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "timed_out": len(self.timed_out),
            "stale_agents": len(self.stale_agents),
            "audio_deleted": self.audio_deleted,
            "skipped": self.skipped,
        }


async def run_cleanup(rt: Runtime, *, use_lock: bool = True, batch: int = 500) -> CleanupReport:
    report = CleanupReport()
    token = secrets.token_hex(8)
    if use_lock and not await rt.store.set_if_absent(LOCK_KEY, token, ttl=600):
        report.skipped = True
        rt.metrics.cleanup_runs.labels(outcome="skipped").inc()
        log.info("cleanup_skipped", reason="another runner holds the lock")
        return report
    try:
        # the operator's job: every tenant's sessions (row-level security's system scope)
        with db_scope(Scope.system()):
            await _time_out_sessions(rt, report, batch)
            await _mark_stale_agents(rt, report)
            await _expire_audio(rt, report, batch)
    finally:
        if use_lock:
            await rt.store.delete_if_equals(LOCK_KEY, token)
    rt.metrics.cleanup_runs.labels(outcome="done").inc()
    log.info("cleanup_completed", **report.as_dict())
    return report


async def _time_out_sessions(rt: Runtime, report: CleanupReport, batch: int) -> None:
    s = rt.settings
    seen: set[str] = set()
    while True:
        now = utcnow()
        async with rt.db() as db:
            ids = await sessions_repo.stale_ids(
                db,
                scope=Scope.system(),
                inactive_before=now - timedelta(hours=s.inactive_hours),
                started_before=now - timedelta(hours=s.session_max_hours),
                limit=batch,
            )
            rows = {sid: await sessions_repo.get(db, sid, scope=Scope.system()) for sid in ids}
        fresh = [sid for sid in ids if sid not in seen]
        if not fresh:
            return
        for sid in fresh:
            seen.add(sid)
            row = rows[sid]
            role = row.role if row else "unknown"
            if await close_session(
                rt, sid, scope=Scope.system(), role=role, status=SessionStatus.timeout,
                reason="cleanup"
            ):
                report.timed_out.append(sid)


async def _mark_stale_agents(rt: Runtime, report: CleanupReport) -> None:
    """Voice sessions whose agent said it was running but stopped heartbeating."""
    async with rt.db() as db:
        running = [row.session_id
                   for row in await sessions_repo.active_voice_sessions(db, scope=Scope.system())
                   if SessionState.of(row.context_data).agent_status == "running"]
    # The store is asked with no transaction open (the SQL store would wait on it).
    dead = [sid for sid in running if not await rt.store.exists(agent_pid_key(sid))]
    if not dead:
        return
    async with rt.db() as db:
        for sid in dead:
            row = await sessions_repo.get(db, sid, scope=Scope.system())
            # Re-check under the write: a fresh job may have taken over meanwhile.
            if row is None or SessionState.of(row.context_data).agent_status != "running":
                continue
            await sessions_repo.merge_context(db, sid, {"agent_status": "stale"},
                                              scope=Scope.system())
            report.stale_agents.append(sid)
        await db.commit()
    for sid in report.stale_agents:
        log.warning("agent_stale", session_id=sid)


async def _expire_audio(rt: Runtime, report: CleanupReport, batch: int) -> None:
    """Blobs first, then the references: a failure leaves a reference to retry
    at the next run, never a blob nobody points at."""
    cutoff = utcnow() - timedelta(days=rt.settings.audio_retention_days)
    while True:
        async with rt.db() as db:
            ids = await messages_repo.sessions_with_audio_ended_before(
                db, cutoff, limit=batch, scope=Scope.system())
        if not ids:
            return
        for sid in ids:
            report.audio_deleted += await rt.audio.delete_session(sid)
            async with rt.db() as db:
                await messages_repo.clear_session_audio(db, sid, scope=Scope.system())
                await db.commit()
        if len(ids) < batch:
            return
