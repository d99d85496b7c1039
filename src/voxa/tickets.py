"""Ticket writes with the webhook events they raise (``ticket.created``,
``ticket.updated``), queued in the caller's transaction. Reads go straight to
``voxa.storage.repos.tickets``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from voxa.storage.models import Ticket
from voxa.storage.repos import tickets as tickets_repo
from voxa.storage.scope import Scope
from voxa.webhooks import domain_events as webhook_events


async def create_ticket(db: AsyncSession, *, scope: Scope, session_id: str, subject: str,
                        body: str, priority: str = "normal") -> Ticket:
    ticket = await tickets_repo.insert(db, scope=scope, session_id=session_id, subject=subject,
                                       body=body, priority=priority)
    await webhook_events.ticket_event(db, "ticket.created", ticket)
    return ticket


async def update_status(db: AsyncSession, ticket_id: str, status: str, *, scope: Scope
                        ) -> Ticket | None:
    ticket = await tickets_repo.set_status(db, ticket_id, status, scope=scope)
    if ticket is not None:
        await webhook_events.ticket_event(db, "ticket.updated", ticket)
    return ticket
