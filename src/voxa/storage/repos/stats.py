"""Business statistics for the owner's dashboard and the ``business_stats`` tool."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.storage.models import AgentSession
from voxa.storage.scope import Scope


def _hour(db: AsyncSession) -> Any:
    if db.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%H", AgentSession.started_at), Integer)
    return cast(func.extract("hour", AgentSession.started_at), Integer)


async def business_stats(db: AsyncSession, *, scope: Scope) -> dict[str, Any]:
    where = scope.where(AgentSession.business_id, AgentSession.user_id)
    total, active, messages = (
        await db.execute(
            select(
                func.count(),
                func.coalesce(func.sum(cast(AgentSession.status == "active", Integer)), 0),
                func.coalesce(func.sum(AgentSession.message_count), 0),
            ).where(where)
        )
    ).one()
    by_role = {
        role: int(n)
        for role, n in (
            await db.execute(
                select(AgentSession.role, func.count()).where(where).group_by(AgentSession.role)
            )
        ).all()
    }
    hour = _hour(db)
    hours = {
        int(h): int(n)
        for h, n in (await db.execute(select(hour, func.count()).where(where).group_by(hour))).all()
        if h is not None
    }
    busiest = sorted(hours.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return {
        "total_sessions": int(total),
        "active_sessions": int(active),
        "total_messages": int(messages),
        "avg_messages_per_session": round(int(messages) / int(total), 2) if total else 0.0,
        "sessions_by_role": by_role,
        "sessions_by_hour": [{"hour": h, "sessions": hours.get(h, 0)} for h in range(24)],
        "busiest_hours": [{"hour": h, "sessions": n} for h, n in busiest],
    }
