"""Conversation messages. Reads join the owning session so the scope applies."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.storage.models import AgentMessage, AgentSession
from voxa.storage.scope import Scope


async def list_messages(
    db: AsyncSession,
    session_id: str,
    *,
    scope: Scope,
    limit: int = 50,
    before: int | None = None,
) -> list[AgentMessage]:
    """The newest ``limit`` messages (before id ``before``), returned oldest first."""
    stmt = (
        select(AgentMessage)
        .join(AgentSession, AgentSession.session_id == AgentMessage.session_id)
        .where(
            AgentMessage.session_id == session_id,
            scope.where(AgentSession.business_id, AgentSession.user_id),
        )
    )
    if before is not None:
        stmt = stmt.where(AgentMessage.id < before)
    stmt = stmt.order_by(AgentMessage.id.desc()).limit(limit)
    rows = list((await db.execute(stmt)).scalars())
    rows.reverse()
    return rows


async def by_client_id(
    db: AsyncSession, session_id: str, client_message_id: str, *, scope: Scope
) -> AgentMessage | None:
    stmt = (
        select(AgentMessage)
        .join(AgentSession, AgentSession.session_id == AgentMessage.session_id)
        .where(
            AgentMessage.session_id == session_id,
            AgentMessage.client_message_id == client_message_id,
            scope.where(AgentSession.business_id, AgentSession.user_id),
        )
    )
    return (await db.execute(stmt)).scalar_one_or_none()
