from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.storage.models import Profile


async def get_by_identity(db: AsyncSession, identity: str) -> Profile | None:
    stmt = select(Profile).where(Profile.identity == identity)
    return (await db.execute(stmt)).scalar_one_or_none()


async def get_by_id(db: AsyncSession, user_id: str) -> Profile | None:
    return await db.get(Profile, user_id)
