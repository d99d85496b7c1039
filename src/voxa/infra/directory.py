"""Business + default agent by slug, cached briefly per process.

Every session start needs them; they change rarely (signup, agent settings).
Entries live ``ttl`` seconds, and this process drops an entry as soon as it
changes the agent; other replicas see a change within ``ttl``.
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from voxa.storage.models import AgentConfig, Business
from voxa.storage.repos import businesses as businesses_repo
from voxa.storage.scope import Scope
from voxa.storage.tenancy import bind_db_scope_now

Entry = tuple[Business, AgentConfig | None]


async def _business_and_agent(db: AsyncSession, slug: str) -> Entry | None:
    business = await businesses_repo.get_by_slug(db, slug)
    if business is None:
        return None
    # The agent is its business's row: under row-level security it is read as
    # that tenant. Only session starts look businesses up here, and they bind
    # the same tenant for the rest of the request (cache hit or not).
    await bind_db_scope_now(db, Scope.business(business.id))
    return business, await businesses_repo.default_agent(db, business_id=business.id)


class BusinessDirectory:
    def __init__(self, *, ttl: float = 5.0, max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[str, tuple[float, Entry]] = {}

    async def lookup(self, db: AsyncSession, slug: str) -> Entry | None:
        now = time.monotonic()
        hit = self._entries.get(slug)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = await _business_and_agent(db, slug)
        if found is not None:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[slug] = (now + self._ttl, found)
        return found

    def invalidate(self, slug: str) -> None:
        self._entries.pop(slug, None)
