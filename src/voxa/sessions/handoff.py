"""A customer asks for a person: the session is marked waiting in
``context_data["handoff"]`` and ``handoff.requested`` is queued for the
business's webhooks. Asking again while waiting changes nothing and sends no
second event. Both the chat page's button (``POST /v1/sessions/{id}/handoff``)
and the assistant's ``request_human`` tool come here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypedDict

from sqlalchemy.ext.asyncio import AsyncSession

from voxa.domain import SessionStatus
from voxa.errors import Gone, InvalidInput
from voxa.sessions import business_hours
from voxa.storage.models import AgentSession, Business
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.session_state import SessionState
from voxa.storage.types import utcnow
from voxa.webhooks.events import emit

HANDOFF_KEY = "handoff"
Via = Literal["button", "assistant"]


class HandoffState(TypedDict):
    state: Literal["waiting"]
    requested_at: str
    via: str
    reason: str


def current(context_data: dict[str, Any] | None) -> HandoffState | None:
    value = SessionState.of(context_data).handoff
    if isinstance(value, dict) and value.get("state") == "waiting":
        return HandoffState(state="waiting", requested_at=str(value.get("requested_at", "")),
                            via=str(value.get("via", "")), reason=str(value.get("reason", "")))
    return None


async def request_handoff(db: AsyncSession, row: AgentSession, *, via: Via,
                          reason: str = "") -> tuple[HandoffState, bool]:
    """Mark ``row`` waiting for a person; (state, whether this call asked first)."""
    if row.status != SessionStatus.active:
        raise Gone("the session has ended; start a new one", code="session_ended")
    if row.role != "customer" or row.business_id is None:
        raise InvalidInput("only a business's customers can ask for a person",
                           code="handoff_not_available")
    scope = Scope.business(row.business_id)
    fresh = await sessions_repo.get(db, row.session_id, scope=scope)
    existing = current(fresh.context_data if fresh else None)
    if existing is not None:
        return existing, False
    state = HandoffState(state="waiting",
                         requested_at=utcnow().isoformat().replace("+00:00", "Z"),
                         via=via, reason=reason.strip()[:300])
    await sessions_repo.merge_context(db, row.session_id, {HANDOFF_KEY: dict(state)},
                                      scope=scope)
    await handoff_event(db, row, "handoff.requested", dict(state))
    return state, True


async def handoff_event(db: AsyncSession, row: AgentSession, event_type: str,
                        state: dict[str, Any]) -> None:
    """Queue a ``handoff.*`` webhook event for ``row``'s business: the
    session, its state and where its transcript is."""
    assert row.business_id is not None
    await emit(db, business_id=row.business_id, event_type=event_type,
               data={"session_id": row.session_id, "channel": row.channel,
                     "user_id": row.user_id, **state,
                     "transcript_path": f"/v1/sessions/{row.session_id}/messages"})


async def closed_answer(db: AsyncSession, business_id: str | None, now: datetime) -> str | None:
    """What to tell a customer who asks for a person outside the business's
    opening hours (None while open, or when no hours are set)."""
    if business_id is None:
        return None
    business = await db.get(Business, business_id)
    hours = business_hours.parse(business.hours if business is not None else None)
    if hours is None or business_hours.is_open(hours, now):
        return None
    return business_hours.closed_message(hours, now)
