"""A finished session's outcome: a short summary, a disposition
and the contact details the customer gave, stored on the session row once, as
the one lifecycle closes it.

Disposition, first match wins: a ticket opened in the session -> ``ticket_opened``;
the session handed to a person (``handoff`` in its context) -> ``handed_to_person``;
no message from the user -> ``abandoned``; otherwise ``resolved``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.agent.context_window import ExtractiveSummarizer
from voxa.storage.models import AgentMessage, AgentSession, Ticket
from voxa.storage.repos import profiles as profiles_repo
from voxa.storage.scope import Scope

OUTCOMES = ("resolved", "ticket_opened", "handed_to_person", "abandoned")
SUMMARY_MESSAGES = 200


@dataclass(frozen=True, slots=True)
class Outcome:
    session_id: str
    outcome: str
    summary: str
    contact_name: str | None
    contact_email: str | None


def derive(*, ticket_opened: bool, handed_off: bool, user_messages: int) -> str:
    if ticket_opened:
        return "ticket_opened"
    if handed_off:
        return "handed_to_person"
    if user_messages == 0:
        return "abandoned"
    return "resolved"


async def record_outcome(db: AsyncSession, row: AgentSession) -> Outcome:
    """Compute and store ``row``'s outcome (the caller commits)."""
    tickets = await db.execute(select(func.count()).select_from(Ticket).where(
        Ticket.session_id == row.session_id))
    users = await db.execute(select(func.count()).select_from(AgentMessage).where(
        AgentMessage.session_id == row.session_id, AgentMessage.role == "user"))
    context = row.context_data or {}
    outcome = derive(ticket_opened=bool(tickets.scalar_one()),
                     handed_off=bool(context.get("handoff")),
                     user_messages=int(users.scalar_one()))
    recent = list((await db.execute(
        select(AgentMessage).where(AgentMessage.session_id == row.session_id)
        .order_by(AgentMessage.id.desc()).limit(SUMMARY_MESSAGES))).scalars())
    summary = ExtractiveSummarizer().fold(str(context.get("summary") or ""),
                                          list(reversed(recent)))
    profile = await profiles_repo.get_by_id(db, row.user_id)
    name = str(context.get("display_name") or "") or (profile.display_name if profile else None)
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
