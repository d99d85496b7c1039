"""Revocation of account tokens, checked on every use.

- One token (logout): its ``jti`` is kept on a deny-list in the TTL store until
  the token would have expired anyway.
- All of an account's tokens (log out everywhere, password change): the
  profile's ``token_version`` is incremented in the database; a token carrying
  another version is refused.

The database is the truth for versions; the store caches "version v of user u
is current" briefly, per version. A bump writes a tombstone for the old
version (unconditionally, for as long as such tokens can live) while cache
fills only ever ``set_if_absent``, so a fill racing a bump cannot bring a
revoked version back, and the revocation holds at once on every process that
shares the store.
"""

from __future__ import annotations

import time
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from voxa.auth.principal import AccountPrincipal, AccountToken
from voxa.errors import Unauthenticated
from voxa.kv import TTLStore
from voxa.settings import Settings
from voxa.storage.repos import profiles as profiles_repo

# How long a "this version is current" answer is reused without the database.
VERSION_CACHE_SECONDS = 30.0
_CURRENT = "1"
_REVOKED = "0"


class Services(Protocol):
    """What revocation uses of the process's ``Runtime`` (which satisfies this),
    so that auth sits below the runtime that holds its token signer."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> TTLStore: ...

    @property
    def db(self) -> async_sessionmaker[AsyncSession]: ...


def _version_key(user_id: str, version: int) -> str:
    return f"auth:token_version:{user_id}:{version}"


def _denied_key(jti: str) -> str:
    return f"auth:revoked_jti:{jti}"


def _revoked() -> Unauthenticated:
    return Unauthenticated("this token has been revoked; log in again", code="token_revoked")


async def check(rt: Services, principal: AccountPrincipal) -> None:
    """Raise ``Unauthenticated`` unless the principal's token is still valid."""
    token = principal.token
    if token is None:
        raise Unauthenticated("invalid token", code="invalid_token")
    if await rt.store.exists(_denied_key(token.jti)):
        raise _revoked()
    key = _version_key(principal.user_id, token.version)
    cached = await rt.store.get(key)
    if cached == _CURRENT:
        return
    if cached == _REVOKED:
        raise _revoked()
    async with rt.db() as db:
        current = await profiles_repo.token_version(db, principal.user_id)
    if current is None:
        raise Unauthenticated("this account no longer exists", code="invalid_token")
    if current != token.version:
        raise _revoked()
    await rt.store.set_if_absent(key, _CURRENT, ttl=VERSION_CACHE_SECONDS)


async def revoke_token(rt: Services, token: AccountToken) -> None:
    """Deny this one token for the rest of its life."""
    left = token.expires_at - time.time()
    if left > 0:
        await rt.store.set(_denied_key(token.jti), _REVOKED, ttl=left + 1)


async def version_retired(rt: Services, user_id: str, version: int) -> None:
    """Publish that ``version`` was bumped: call after the bump committed."""
    lifetime = rt.settings.user_token_ttl_hours * 3600 + 60
    await rt.store.set(_version_key(user_id, version), _REVOKED, ttl=lifetime)
