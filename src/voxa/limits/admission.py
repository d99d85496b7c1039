"""Session starts and turns: refused (429) before anything is written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.domain import tenant_key
from voxa.errors import RateLimited
from voxa.limits import catalog
from voxa.limits.keys import address_part
from voxa.limits.limiter import Limiter
from voxa.storage.models import AgentSession, Business
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope

QUOTA_RETRY_SECONDS = 30.0


async def business_overrides(db: AsyncSession, business_id: str | None) -> dict[str, Any]:
    if business_id is None:
        return {}
    value = (await db.execute(select(Business.limits).where(Business.id == business_id))
             ).scalar_one_or_none()
    return dict(value or {})


async def admit_start(limiter: Limiter, db: AsyncSession, *, business: Business | None,
                      channel: str, address: str) -> None:
    """Quotas from the database's active rows, then the start rates."""
    overrides: Mapping[str, Any] = dict(business.limits or {}) if business else {}
    if business is not None:
        scope = Scope.business(business.id)
        active = await sessions_repo.count_active(db, scope=scope)
        if active >= catalog.count(limiter.settings, "active_sessions_per_business", overrides):
            limiter.refused("active_sessions_per_business")
            raise RateLimited("this business has too many active sessions; retry later",
                              retry_after=QUOTA_RETRY_SECONDS, code="too_many_active_sessions")
        if channel != "text":
            voice = await sessions_repo.count_active(db, scope=scope, voice=True)
            limit = catalog.count(limiter.settings, "voice_sessions_per_business", overrides)
            if voice >= limit:
                limiter.refused("voice_sessions_per_business")
                raise RateLimited("this business has too many calls in progress; retry later",
                                  retry_after=QUOTA_RETRY_SECONDS,
                                  code="too_many_voice_sessions")
    message = "too many sessions started; retry later"
    await limiter.hit("session_starts_per_address", address_part(address),
                      overrides=overrides, message=message)
    if business is not None:
        await limiter.hit("session_starts_per_business", business.id, overrides=overrides,
                          message=message)


async def admit_turn(limiter: Limiter, row: AgentSession, overrides: Mapping[str, Any]) -> None:
    message = "too many messages; retry later"
    await limiter.hit("turns_per_session", row.session_id, overrides=overrides,
                      message=message)
    await limiter.hit("turns_per_customer", tenant_key(row.business_id), row.user_id,
                      overrides=overrides, message=message)
