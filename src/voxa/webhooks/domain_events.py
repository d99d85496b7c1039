"""The data of each event (what a receiver gets in ``data``). Contains only what
the business itself may see: its own tickets and sessions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from voxa.domain import SessionOutcome as Outcome
from voxa.storage.models import AgentSession, Ticket
from voxa.webhooks.events import emit


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def ticket_data(ticket: Ticket) -> dict[str, Any]:
    return {"id": ticket.id, "session_id": ticket.session_id, "user_id": ticket.user_id,
            "subject": ticket.subject, "body": ticket.body, "priority": ticket.priority,
            "status": ticket.status, "created_at": _iso(ticket.created_at),
            "updated_at": _iso(ticket.updated_at)}


async def ticket_event(db: AsyncSession, event_type: str, ticket: Ticket) -> None:
    await emit(db, business_id=ticket.business_id, event_type=event_type,
               data=ticket_data(ticket))


def outcome_fields(outcome: Outcome | None) -> dict[str, Any]:
    """The session's summary, outcome and contact details, as stored when it closed."""
    if outcome is None:
        return {}
    return {"outcome": outcome.outcome, "summary": outcome.summary,
            "contact": {"name": outcome.contact_name, "email": outcome.contact_email}}


def session_ended_data(row: AgentSession, outcome: Outcome | None = None) -> dict[str, Any]:
    return {"session_id": row.session_id, "status": row.status, "end_reason": row.end_reason,
            "channel": row.channel, "role": row.role, "user_id": row.user_id,
            "message_count": row.message_count, "started_at": _iso(row.started_at),
            "ended_at": _iso(row.ended_at),
            "transcript_path": f"/v1/sessions/{row.session_id}/messages",
            **outcome_fields(outcome)}


async def session_ended(db: AsyncSession, row: AgentSession,
                        outcome: Outcome | None = None) -> None:
    if row.business_id is not None:
        await emit(db, business_id=row.business_id, event_type="session.ended",
                   data=session_ended_data(row, outcome))
