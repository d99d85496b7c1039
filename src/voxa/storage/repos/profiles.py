from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.storage.models import Profile


async def get_by_identity(db: AsyncSession, identity: str) -> Profile | None:
    stmt = select(Profile).where(Profile.identity == identity)
    return (await db.execute(stmt)).scalar_one_or_none()


async def get_by_id(db: AsyncSession, user_id: str) -> Profile | None:
    return await db.get(Profile, user_id)


async def token_version(db: AsyncSession, user_id: str) -> int | None:
    """The account's current token version; ``None`` when it no longer exists."""
    stmt = select(Profile.token_version).where(Profile.id == user_id)
    return (await db.execute(stmt)).scalar_one_or_none()


async def bump_token_version(
    db: AsyncSession,
    user_id: str,
    *,
    password_hash: str | None = None,
    expected_hash: str | None = None,
) -> int | None:
    """Increment the token version (and set a new password hash) in the caller's
    transaction; returns the new version, or ``None`` when no row matched (the
    account is gone, or its hash is no longer ``expected_hash``)."""
    stmt = (
        update(Profile)
        .where(Profile.id == user_id)
        .values(token_version=Profile.token_version + 1)
        .execution_options(synchronize_session=False)
    )
    if password_hash is not None:
        stmt = stmt.values(password_hash=password_hash)
    if expected_hash is not None:
        stmt = stmt.where(Profile.password_hash == expected_hash)
    if (await db.execute(stmt)).rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await token_version(db, user_id)
