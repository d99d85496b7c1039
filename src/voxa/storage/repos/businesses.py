from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.storage.models import AgentConfig, Business
from voxa.storage.scope import Scope


async def get_by_slug(db: AsyncSession, slug: str) -> Business | None:
    """Public lookup: a business's slug and name are what its chat page shows."""
    return (await db.execute(select(Business).where(Business.slug == slug))).scalar_one_or_none()


async def get_by_id(db: AsyncSession, business_id: str) -> Business | None:
    return await db.get(Business, business_id)


async def slug_taken(db: AsyncSession, slug: str) -> bool:
    return await get_by_slug(db, slug) is not None


def new_business(*, slug: str, name: str) -> Business:
    return Business(slug=slug, name=name)


async def default_agent(db: AsyncSession, *, business_id: str | None) -> AgentConfig | None:
    """The business's default agent, or the built-in general agent for None."""
    cond = (
        AgentConfig.business_id.is_(None)
        if business_id is None
        else AgentConfig.business_id == business_id
    )
    stmt = (
        select(AgentConfig)
        .where(cond)
        .order_by(AgentConfig.is_default.desc(), AgentConfig.created_at)
        .limit(1)
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def get_agent(
    db: AsyncSession, agent_id: str, *, business_id: str | None
) -> AgentConfig | None:
    """An agent by id, only if it belongs to ``business_id`` (None: the general agent)."""
    cond = (
        AgentConfig.business_id.is_(None)
        if business_id is None
        else AgentConfig.business_id == business_id
    )
    stmt = select(AgentConfig).where(AgentConfig.id == agent_id, cond)
    return (await db.execute(stmt)).scalar_one_or_none()


async def set_allowed_origins(db: AsyncSession, origins: list[str], *, scope: Scope
                              ) -> bool:
    """Replace the origins allowed to frame the business's chat; False when
    ``scope`` names no business (nothing written)."""
    if scope.kind != "business" or scope.business_id is None:
        raise ValueError("allowed origins are set within one business's scope")
    result = await db.execute(
        update(Business).where(scope.where(Business.id)).values(allowed_origins=origins))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_hours(db: AsyncSession, hours: dict[str, Any] | None, *, scope: Scope) -> bool:
    """Replace the business's opening hours (None: always open)."""
    if scope.kind != "business" or scope.business_id is None:
        raise ValueError("opening hours are set within one business's scope")
    result = await db.execute(update(Business).where(scope.where(Business.id)).values(hours=hours))
    return bool(result.rowcount)  # type: ignore[attr-defined]
