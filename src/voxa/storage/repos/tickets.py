"""Support tickets. Every function takes the tenant scope; customers see only
their own tickets, owners their business's. The writes that raise events go
through ``voxa.tickets``."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.domain import TicketPriority, TicketStatus
from voxa.errors import InvalidInput
from voxa.storage.models import Ticket
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow

STATUSES = tuple(s.value for s in TicketStatus)
PRIORITIES = tuple(p.value for p in TicketPriority)


def _check(value: str, allowed: tuple[str, ...], what: str) -> str:
    value = value.strip().lower()
    if value not in allowed:
        raise InvalidInput(f"{what} must be one of {', '.join(allowed)}", code=f"invalid_{what}")
    return value


async def insert(db: AsyncSession, *, scope: Scope, session_id: str, subject: str,
                 body: str, priority: str = "normal") -> Ticket:
    if scope.kind != "user" or scope.business_id is None:
        raise InvalidInput("tickets are opened by a customer of a business")
    subject, body = subject.strip()[:300], body.strip()[:4000]
    if not subject:
        raise InvalidInput("a ticket needs a subject", code="invalid_ticket")
    ticket = Ticket(business_id=scope.business_id, user_id=scope.user_id, session_id=session_id,
                    subject=subject, body=body or subject,
                    priority=_check(priority or "normal", PRIORITIES, "priority"))
    db.add(ticket)
    await db.flush()
    return ticket


async def list_tickets(db: AsyncSession, *, scope: Scope, status: str | None = None,
                       limit: int = 50) -> list[Ticket]:
    stmt = select(Ticket).where(scope.where(Ticket.business_id, Ticket.user_id))
    if status:
        stmt = stmt.where(Ticket.status == _check(status, STATUSES, "status"))
    stmt = stmt.order_by(Ticket.created_at.desc()).limit(limit)
    return list((await db.execute(stmt)).scalars())


async def get_ticket(db: AsyncSession, ticket_id: str, *, scope: Scope) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.id == ticket_id,
                                scope.where(Ticket.business_id, Ticket.user_id))
    return (await db.execute(stmt)).scalar_one_or_none()


async def set_status(db: AsyncSession, ticket_id: str, status: str, *, scope: Scope
                     ) -> Ticket | None:
    status = _check(status, STATUSES, "status")
    stmt = (update(Ticket)
            .where(Ticket.id == ticket_id, scope.where(Ticket.business_id, Ticket.user_id))
            .values(status=status, updated_at=utcnow()))
    if (await db.execute(stmt)).rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await get_ticket(db, ticket_id, scope=scope)


async def resolve_id(db: AsyncSession, ref: str, *, scope: Scope) -> str | None:
    """A full ticket id from a full id or an unambiguous 8+ character prefix, in scope."""
    ref = ref.strip().lower()
    if len(ref) < 8 or not all(c in "0123456789abcdef-" for c in ref):
        return None
    stmt = select(Ticket.id).where(Ticket.id.startswith(ref, autoescape=True),
                                   scope.where(Ticket.business_id, Ticket.user_id)).limit(2)
    ids = list((await db.execute(stmt)).scalars())
    return ids[0] if len(ids) == 1 else None
