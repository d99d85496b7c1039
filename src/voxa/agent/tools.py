"""The assistant's tools, by role.

Each tool is bound to one session's context when the agent is built; identity,
business and user come from that verified context, never from arguments the
model supplies. Whatever a model invents, a tool can only reach its own
session's tenant and user.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from livekit.agents.llm import FunctionTool, ToolError, function_tool

from voxa import tickets
from voxa.context import SessionContext, maybe_current_session
from voxa.domain import tenant_key
from voxa.errors import InvalidInput
from voxa.limits.admission import business_overrides
from voxa.runtime import Runtime
from voxa.sessions import handoff
from voxa.storage.repos import memories as memories_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.repos import tickets as tickets_repo
from voxa.storage.repos.stats import business_stats as stats_query
from voxa.storage.scope import Scope


def _guard(ctx: SessionContext) -> None:
    """Defence in depth: a tool must run in the task context of its own session."""
    current = maybe_current_session()
    if current is not None and current.session_id != ctx.session_id:
        raise ToolError("this tool belongs to another conversation")


def _mine(ctx: SessionContext) -> Scope:
    return Scope.user(ctx.user_id, ctx.business_id)


def _short(ticket_id: str) -> str:
    return ticket_id[:8]


ToolFn = Callable[..., Coroutine[Any, Any, str]]


def build_tools(rt: Runtime, ctx: SessionContext) -> list[FunctionTool[..., Any]]:
    """The tools the session's role may use, bound to that session."""

    async def run(fn: Callable[[Any], Coroutine[Any, Any, str]]) -> str:
        _guard(ctx)
        try:
            async with rt.db() as db:
                result = await fn(db)
                await db.commit()
                return result
        except InvalidInput as exc:
            raise ToolError(exc.message) from exc

    async def over_limit(name: str, what: str) -> str | None:
        """A refusal for the model when the user's quota is used up (nothing is written)."""
        async with rt.db() as db:
            overrides = await business_overrides(db, ctx.business_id)
        wait = await rt.limiter.try_hit(name, tenant_key(ctx.business_id), ctx.user_id,
                                        overrides=overrides)
        if wait is None:
            return None
        return (f"Refused: this user has reached the limit on {what}; nothing was saved. "
                f"Tell the user it can be tried again in about {math.ceil(wait)} seconds.")

    async def remember(category: str, key: str, value: str) -> str:
        """Store a durable fact, interest or preference about the user for later conversations.

        Args:
            category: One of FACT, INTEREST, PREFERENCE, PERSONAL, GOAL.
            key: A short name for the memory, such as favorite_color.
            value: What to remember, such as blue.
        """

        _guard(ctx)
        if (refusal := await over_limit("memories_per_user", "new memories")) is not None:
            return refusal

        async def op(db: Any) -> str:
            m = await memories_repo.remember(db, scope=_mine(ctx), category=category, key=key,
                                             value=value)
            return f"Remembered {m.key} = {m.value}."

        return await run(op)

    async def recall(query: str) -> str:
        """Look up what you remember about the user.

        Args:
            query: A key such as favorite_color, or a few words describing what to find.
        """

        async def op(db: Any) -> str:
            found = await memories_repo.recall(db, scope=_mine(ctx), query=query)
            if not found:
                return "Nothing remembered about that."
            return "\n".join(f"{m.key}: {m.value}" for m in found)

        return await run(op)

    async def create_ticket(subject: str, body: str, priority: str = "normal") -> str:
        """Open a support ticket for the customer with the business's staff.

        Args:
            subject: A one-line summary of the problem or request.
            body: The details the staff will need.
            priority: One of low, normal, high, urgent.
        """

        _guard(ctx)
        if (refusal := await over_limit("tickets_per_user", "new tickets")) is not None:
            return refusal

        async def op(db: Any) -> str:
            t = await tickets.create_ticket(
                db, scope=Scope.user(ctx.user_id, ctx.business_id), session_id=ctx.session_id,
                subject=subject, body=body, priority=priority)
            return f"Ticket {_short(t.id)} opened with {t.priority} priority: {t.subject}."

        return await run(op)

    async def request_human(reason: str = "") -> str:
        """Ask for a person from the business to take over this conversation. Use it
        when the customer asks for a human, a person, an agent or staff.

        Args:
            reason: In a few words, what the customer needs help with.
        """

        async def op(db: Any) -> str:
            row = await sessions_repo.get(db, ctx.session_id,
                                          scope=Scope.user(ctx.user_id, ctx.business_id))
            if row is None:
                return "This conversation cannot be handed to a person."
            _state, first = await handoff.request_handoff(db, row, via="assistant",
                                                          reason=reason)
            return ("The business has been told; a person will join this conversation. "
                    "Tell the customer so." if first else
                    "A person has already been asked for and will join soon.")

        return await run(op)

    async def ticket_status() -> str:
        """List the customer's own support tickets and their status."""

        async def op(db: Any) -> str:
            rows = await tickets_repo.list_tickets(db, scope=_mine(ctx))
            if not rows:
                return "You have no tickets."
            return "\n".join(f"{_short(t.id)} [{t.status}] {t.subject}" for t in rows)

        return await run(op)

    async def list_tickets(status: str | None = None) -> str:
        """List the business's support tickets, optionally only those with one status.

        Args:
            status: open, pending or closed; leave empty for all.
        """

        async def op(db: Any) -> str:
            assert ctx.business_id is not None
            rows = await tickets_repo.list_tickets(db, scope=Scope.business(ctx.business_id),
                                              status=status or None)
            if not rows:
                return "No tickets."
            return "\n".join(f"{_short(t.id)} [{t.status}/{t.priority}] {t.subject}"
                             for t in rows)

        return await run(op)

    async def update_ticket(ticket_id: str, status: str) -> str:
        """Change the status of one of the business's tickets.

        Args:
            ticket_id: The ticket id, or its first 8 characters.
            status: open, pending or closed.
        """

        async def op(db: Any) -> str:
            assert ctx.business_id is not None
            scope = Scope.business(ctx.business_id)
            full = await tickets_repo.resolve_id(db, ticket_id, scope=scope)
            t = await tickets.update_status(db, full, status, scope=scope) if full else None
            if t is None:
                return f"No ticket {ticket_id} in this business."
            return f"Ticket {_short(t.id)} is now {t.status}."

        return await run(op)

    async def business_stats() -> str:
        """Sessions, active sessions, average messages per session and busiest hours."""

        async def op(db: Any) -> str:
            assert ctx.business_id is not None
            stats = await stats_query(db, scope=Scope.business(ctx.business_id))
            stats.pop("sessions_by_hour", None)
            return json.dumps(stats)

        return await run(op)

    chosen: list[ToolFn] = [remember, recall]
    if ctx.role == "customer":
        chosen += [create_ticket, ticket_status, request_human]
    elif ctx.role == "owner":
        chosen += [list_tickets, update_ticket, business_stats]
    return [function_tool(fn) for fn in chosen]
