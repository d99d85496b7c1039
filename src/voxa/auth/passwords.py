"""Argon2id password hashing. Hashing is CPU-bound, so callers run it in a
worker thread (``anyio.to_thread``) to keep the event loop free."""

from __future__ import annotations

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Moderate parameters: ~40 ms per hash on this class of machine.
_hasher = PasswordHasher(time_cost=2, memory_cost=32 * 1024, parallelism=1)

# Verified against when the account does not exist, so timing does not reveal
# which e-mails have accounts.
_DUMMY_HASH = _hasher.hash("voxa-timing-equaliser")


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    return await anyio.to_thread.run_sync(_verify, stored, password)
