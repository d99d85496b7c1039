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

Entry = tuple[Business, AgentConfig | None]


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
        found = await businesses_repo.with_default_agent(db, slug)
        if found is not None:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[slug] = (now + self._ttl, found)
        return found

    def invalidate(self, slug: str) -> None:
        self._entries.pop(slug, None)
