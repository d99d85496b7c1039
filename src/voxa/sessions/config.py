"""Per-session configuration: validated, stored under the session id in the
TTL store (``session:{id}:config``), rebuilt from the row when missing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from voxa.domain import SessionStatus
from voxa.infra.voices import VoiceCatalog
from voxa.kv.base import TTLStore
from voxa.kv.keys import config_key
from voxa.storage.models import AgentSession
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow


class SessionConfig(BaseModel):
    """What a session may configure. Unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    voice: str | None = Field(default=None, max_length=64)
    language: str = Field(default="en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    speaking_rate: float = Field(default=1.0, ge=0.5, le=2.0)


class SessionConfigPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voice: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    speaking_rate: float | None = Field(default=None, ge=0.5, le=2.0)


def resolve_config(
    base: dict[str, Any], overrides: dict[str, Any], voices: VoiceCatalog
) -> SessionConfig:
    """Merge agent defaults with the request, validating the voice against the catalog."""
    merged = {**{k: v for k, v in base.items() if k in SessionConfig.model_fields}, **overrides}
    config = SessionConfig(**merged)
    voice = voices.resolve(config.voice) if config.voice else voices.default
    return config.model_copy(update={"voice": voice.id})


def remaining_ttl(row: AgentSession, max_hours: float) -> float:
    """Seconds until the session reaches its maximum age (≥ 1)."""
    expires = row.started_at + timedelta(hours=max_hours)
    return max(1.0, (expires - utcnow()).total_seconds())


async def cache_config(store: TTLStore, row: AgentSession, config: dict[str, Any], *,
                       max_hours: float) -> None:
    """Write ``session:{id}:config`` with the session's remaining lifetime as TTL.
    Callers make sure this cannot revive an ended session (see store_config)."""
    await store.set(config_key(row.session_id), json.dumps(config),
                    ttl=remaining_ttl(row, max_hours))


async def _is_active(db: async_sessionmaker[AsyncSession], row: AgentSession) -> bool:
    async with db() as session:
        fresh = await sessions_repo.get(session, row.session_id, scope=Scope.owning(row))
        return fresh is not None and fresh.status == SessionStatus.active


async def store_config(
    store: TTLStore, db: async_sessionmaker[AsyncSession], row: AgentSession,
    config: dict[str, Any], *, max_hours: float,
) -> None:
    """Cache ``config`` for an active session, never reviving an ended one.

    Write, then re-check the row: ``end`` marks the row before deleting keys, so
    whichever order the two interleave in, an ended session keeps no config.
    Takes the session factory, not an open session: no store call may wait
    while a database transaction is held (the SQL store would wait on it).
    """
    await cache_config(store, row, config, max_hours=max_hours)
    if not await _is_active(db, row):
        await store.delete(config_key(row.session_id))


async def load_config(
    store: TTLStore, db: async_sessionmaker[AsyncSession], row: AgentSession, *,
    max_hours: float,
) -> dict[str, Any]:
    """The session's config from the store, rebuilt from the row when missing."""
    cached = await store.get(config_key(row.session_id))
    if cached is not None:
        return dict(json.loads(cached))
    config = dict(row.config or {})
    if row.status == SessionStatus.active:
        await store_config(store, db, row, config, max_hours=max_hours)
    return config
