"""Business + default agent by slug, cached briefly per process.

Every session start needs them; they change rarely (signup, agent settings).
Entries live ``ttl`` seconds, and every process drops an entry as soon as the
business changes anywhere: a change bumps ``version:business:{id}`` in the
shared store (:meth:`BusinessDirectory.changed`), and a hit is used only while
that version is the one it was read under. The same version tells the text
turns (``TextTurns``) to rebuild a session's assistant.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from voxa.kv.base import TTLStore
from voxa.kv.keys import business_version_key
from voxa.storage.models import AgentConfig, Business
from voxa.storage.repos import businesses as businesses_repo
from voxa.storage.scope import Scope
from voxa.storage.tenancy import bind_db_scope_now

Entry = tuple[Business, AgentConfig | None]


@dataclass(frozen=True, slots=True)
class _Cached:
    expires: float
    version: str
    entry: Entry


async def _business_and_agent(db: AsyncSession, slug: str) -> Entry | None:
    business = await businesses_repo.get_by_slug(db, slug)
    if business is None:
        return None
    # The agent is its business's row: under row-level security it is read as
    # that tenant. Only session starts look businesses up here, and they bind
    # the same tenant for the rest of the request (cache hit or not).
    await bind_db_scope_now(db, Scope.business(business.id))
    return business, await businesses_repo.default_agent(db, business_id=business.id)


async def settings_version(store: TTLStore, business_id: str) -> str:
    return await store.get(business_version_key(business_id)) or ""


_UNREAD = "\0unread"  # never equal to a stored version


class BusinessDirectory:
    def __init__(self, *, ttl: float = 5.0, max_entries: int = 10_000) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: dict[str, _Cached] = {}

    async def lookup(self, db: AsyncSession, slug: str, *, versions: TTLStore) -> Entry | None:
        now = time.monotonic()
        hit = self._entries.get(slug)
        version = ""
        if hit is not None:
            version = await settings_version(versions, hit.entry[0].id)
            if hit.expires > now and version == hit.version:
                return hit.entry
        # The version is read before the rows: a change committed in between
        # bumps it again, so the entry is refreshed on its next use.
        found = await _business_and_agent(db, slug)
        if found is not None:
            if hit is None or hit.entry[0].id != found[0].id:
                # First sight of this business: its version was not read before
                # the rows, so this entry is only good for this lookup; the next
                # one reads the version first and reloads.
                version = _UNREAD
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[slug] = _Cached(now + self._ttl, version, found)
        return found

    async def changed(self, versions: TTLStore, *, business_id: str, slug: str) -> None:
        """After a committed change to a business or its agent: every
        process's caches of it (directory entry, session assistants) go stale."""
        self._entries.pop(slug, None)
        await versions.set(business_version_key(business_id), secrets.token_hex(8))
