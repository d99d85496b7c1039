"""The one lifecycle: ending and timing out mark the row,
delete every cache key the session owns and delete the session's LiveKit room
(which disconnects the caller and the agent). Used by the API, the agent and
cleanup."""

from __future__ import annotations

from datetime import timedelta

from voxa.domain import SessionStatus
from voxa.infra.livekit_rooms import delete_room_bounded
from voxa.kv.keys import all_session_keys
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.sessions import handoff, handoff_feed
from voxa.sessions.outcomes import record_outcome
from voxa.storage.models import AgentSession
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow
from voxa.webhooks import domain_events as webhook_events

log = get_logger(__name__)


async def close_session(
    rt: Runtime, session_id: str, *, scope: Scope, role: str, status: str, reason: str
) -> bool:
    """Mark the session ``status`` (if still active), drop its cache keys and
    delete its LiveKit room. ``scope`` is the caller's reach: a request
    passes the access-checked session's own scope (``Scope.owning(row)``);
    only the cleanup job passes the unnarrowed system scope.

    Idempotent: returns True only for the call that changed the row, so
    concurrent callers (two cleanup runners, end racing timeout) count once.
    Keys and the room are deleted on every call, after the row is marked, so
    a LiveKit that is down never keeps a session alive: the deletion is
    retried a few times and logged, and the agent leaves on its own when its
    heartbeat re-check sees the row.
    """
    async with rt.db() as db:
        changed = await sessions_repo.finish(
            db, session_id, scope=scope, status=status, reason=reason
        )
        row = await sessions_repo.get(db, session_id, scope=scope)
        if changed and row is not None:
            # Only the call that closed the session writes its outcome (once); the
            # session.ended event, which carries it, is queued in the same transaction.
            outcome = await record_outcome(db, row)
            await webhook_events.session_ended(db, row, outcome)
        await db.commit()
    await rt.store.delete(*all_session_keys(session_id))
    if changed and row is not None and row.business_id is not None \
            and handoff.current(row.context_data) is not None:
        # After the commit: the owners' live lists re-read the database and drop it.
        await handoff_feed.bump(rt.store, row.business_id)
    if changed:
        rt.metrics.sessions_ended.labels(role=role, reason=reason).inc()
        log.info("session_ended", session_id=session_id, role=role, status=status, reason=reason)
    if rt.rooms is not None and row is not None:
        await delete_room_bounded(rt.rooms, row.room_name, session_id=session_id)
    return changed


def overdue_reason(row: AgentSession, rt: Runtime) -> str | None:
    """Why an active session should be timed out now, if it should."""
    if row.status != SessionStatus.active:
        return None
    now = utcnow()
    if row.started_at + timedelta(hours=rt.settings.session_max_hours) <= now:
        return "max_age"
    if row.last_activity_at + timedelta(hours=rt.settings.inactive_hours) <= now:
        return "inactive"
    return None


async def expire_if_overdue(rt: Runtime, row: AgentSession) -> AgentSession:
    """Lazily apply the timeout rules when a session is accessed."""
    reason = overdue_reason(row, rt)
    if reason is not None:
        await close_session(rt, row.session_id, scope=Scope.owning(row), role=row.role,
                            status=SessionStatus.timeout, reason=reason)
        row.status = SessionStatus.timeout
        row.end_reason = reason
    return row
