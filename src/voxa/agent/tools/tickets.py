"""Support tickets: a customer opens and follows their own; an owner triages
the business's."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from voxa import tickets
from voxa.agent.tools.registry import ToolEnv, tool
from voxa.domain import Role
from voxa.storage.repos import tickets as tickets_repo


def short_id(ticket_id: str) -> str:
    return ticket_id[:8]


@tool(roles=[Role.customer],
      guidance="When you do not know something, say so and offer to open a support ticket "
               "with create_ticket.")
async def create_ticket(env: ToolEnv, subject: str, body: str, priority: str = "normal") -> str:
    """Open a support ticket for the customer with the business's staff.

    Args:
        subject: A one-line summary of the problem or request.
        body: The details the staff will need.
        priority: One of low, normal, high, urgent.
    """
    if (refusal := await env.over_limit("tickets_per_user", "new tickets")) is not None:
        return refusal

    async def op(db: AsyncSession) -> str:
        t = await tickets.create_ticket(db, scope=env.mine, session_id=env.ctx.session_id,
                                        subject=subject, body=body, priority=priority)
        return f"Ticket {short_id(t.id)} opened with {t.priority} priority: {t.subject}."

    return await env.run(op)


@tool(roles=[Role.customer],
      guidance="Use ticket_status when the customer asks about their tickets.")
async def ticket_status(env: ToolEnv) -> str:
    """List the customer's own support tickets and their status."""

    async def op(db: AsyncSession) -> str:
        rows = await tickets_repo.list_tickets(db, scope=env.mine)
        if not rows:
            return "You have no tickets."
        return "\n".join(f"{short_id(t.id)} [{t.status}] {t.subject}" for t in rows)

    return await env.run(op)


@tool(roles=[Role.owner],
      guidance="Review the business's support tickets with list_tickets.")
async def list_tickets(env: ToolEnv, status: str | None = None) -> str:
    """List the business's support tickets, optionally only those with one status.

    Args:
        status: open, pending or closed; leave empty for all.
    """

    async def op(db: AsyncSession) -> str:
        rows = await tickets_repo.list_tickets(db, scope=env.business, status=status or None)
        if not rows:
            return "No tickets."
        return "\n".join(f"{short_id(t.id)} [{t.status}/{t.priority}] {t.subject}"
                         for t in rows)

    return await env.run(op)


@tool(roles=[Role.owner],
      guidance="Triage a ticket with update_ticket (open, pending or closed).")
async def update_ticket(env: ToolEnv, ticket_id: str, status: str) -> str:
    """Change the status of one of the business's tickets.

    Args:
        ticket_id: The ticket id, or its first 8 characters.
        status: open, pending or closed.
    """

    async def op(db: AsyncSession) -> str:
        scope = env.business
        full = await tickets_repo.resolve_id(db, ticket_id, scope=scope)
        t = await tickets.update_status(db, full, status, scope=scope) if full else None
        if t is None:
            return f"No ticket {ticket_id} in this business."
        return f"Ticket {short_id(t.id)} is now {t.status}."

    return await env.run(op)
