"""What the owner's live events stream reads (issue 14 part 2): a per-business
version key in the shared store, changed whenever a session starts waiting for
a person, so every API process's stream notices within one poll without
querying the database each time; and stream slots bounding open streams per
business across processes.
"""

from __future__ import annotations

import uuid
from typing import Any

from voxa.domain import SessionStatus
from voxa.kv.base import TTLStore
from voxa.runtime import Runtime
from voxa.sessions import handoff
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.tenancy import db_scope

_VERSION_TTL = 7 * 24 * 3600.0
_WAITING_LIMIT = 200


def version_key(business_id: str) -> str:
    return f"handoff-version:{business_id}"


async def bump(store: TTLStore, business_id: str) -> None:
    """Mark the business's waiting list changed (one atomic write of a fresh value)."""
    await store.set(version_key(business_id), uuid.uuid4().hex, ttl=_VERSION_TTL)


async def version(store: TTLStore, business_id: str) -> str | None:
    return await store.get(version_key(business_id))


async def waiting_sessions(rt: Runtime, business_id: str) -> list[dict[str, Any]]:
    """The business's live sessions waiting for a person, oldest request first."""
    scope = Scope.business(business_id)
    with db_scope(scope):
        async with rt.db() as db:
            rows = await sessions_repo.list_sessions(db, scope=scope,
                                                     status=SessionStatus.active,
                                                     limit=_WAITING_LIMIT)
    out: list[dict[str, Any]] = []
    for row in rows:
        state = handoff.current(row.context_data)
        if state is not None:
            out.append({"session_id": row.session_id, "channel": row.channel,
                        "requested_at": state["requested_at"], "via": state["via"],
                        "reason": state["reason"]})
    out.sort(key=lambda w: str(w["requested_at"]))
    return out


def _slot_key(business_id: str, i: int) -> str:
    return f"owner-events:{business_id}:{i}"


async def take_slot(store: TTLStore, business_id: str, *, slots: int,
                    ttl: float) -> tuple[str, str] | None:
    """One of the business's ``slots`` stream slots as (key, token), or None when
    all are held. A slot lapses after ``ttl`` unless refreshed (a dead process's
    streams free themselves)."""
    token = uuid.uuid4().hex
    for i in range(slots):
        key = _slot_key(business_id, i)
        if await store.set_if_absent(key, token, ttl=ttl):
            return key, token
    return None


async def refresh_slot(store: TTLStore, slot: tuple[str, str], *, ttl: float) -> bool:
    key, token = slot
    if await store.get(key) != token:
        return False
    await store.set(key, token, ttl=ttl)
    return True


async def release_slot(store: TTLStore, slot: tuple[str, str]) -> None:
    await store.delete_if_equals(*slot)
