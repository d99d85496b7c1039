"""A finished session's outcome: a short summary, a disposition
and the contact details the customer gave, stored on the session row once, as
the one lifecycle closes it.

Disposition, first match wins: a ticket opened in the session -> ``ticket_opened``;
the session handed to a person (``handoff`` in its context) -> ``handed_to_person``;
no message from the user -> ``abandoned``; otherwise ``resolved``.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.domain import OutcomeKind, SessionOutcome
from voxa.sessions.summary import ExtractiveSummarizer
from voxa.storage.models import AgentMessage, AgentSession, Ticket
from voxa.storage.repos import profiles as profiles_repo
from voxa.storage.scope import Scope
from voxa.storage.session_state import SessionState

OUTCOMES = tuple(o.value for o in OutcomeKind)
SUMMARY_MESSAGES = 200


Outcome = SessionOutcome


def derive(*, ticket_opened: bool, handed_off: bool, user_messages: int) -> OutcomeKind:
    if ticket_opened:
        return OutcomeKind.ticket_opened
    if handed_off:
        return OutcomeKind.handed_to_person
    if user_messages == 0:
        return OutcomeKind.abandoned
    return OutcomeKind.resolved


async def record_outcome(db: AsyncSession, row: AgentSession) -> Outcome:
    """Compute and store ``row``'s outcome (the caller commits)."""
    tickets = await db.execute(select(func.count()).select_from(Ticket).where(
        Ticket.session_id == row.session_id))
    users = await db.execute(select(func.count()).select_from(AgentMessage).where(
        AgentMessage.session_id == row.session_id, AgentMessage.role == "user"))
    state = SessionState.of(row.context_data)
    outcome = derive(ticket_opened=bool(tickets.scalar_one()),
                     handed_off=bool(state.handoff),
                     user_messages=int(users.scalar_one()))
    recent = list((await db.execute(
        select(AgentMessage).where(AgentMessage.session_id == row.session_id)
        .order_by(AgentMessage.id.desc()).limit(SUMMARY_MESSAGES))).scalars())
    summary = ExtractiveSummarizer().fold(state.summary or "",
                                          list(reversed(recent)))
    profile = await profiles_repo.get_by_id(db, row.user_id)
    name = state.display_name or (profile.display_name if profile else None)
    email = profile.email if profile else None
    await db.execute(update(AgentSession).where(AgentSession.session_id == row.session_id)
                     .values(outcome=outcome, outcome_summary=summary, contact_name=name,
                             contact_email=email))
    return Outcome(row.session_id, outcome, summary, name, email)


async def outcome_for(db: AsyncSession, session_id: str, *, scope: Scope) -> Outcome | None:
    """The stored outcome of a finished session in ``scope`` (None while active)."""
    stmt = select(AgentSession).where(AgentSession.session_id == session_id,
                                      scope.where(AgentSession.business_id,
                                                  AgentSession.user_id))
    row = (await db.execute(stmt)).scalar_one_or_none()
    if row is None or row.outcome is None:
        return None
    return Outcome(row.session_id, row.outcome, row.outcome_summary or "", row.contact_name,
                   row.contact_email)
