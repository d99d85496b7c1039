"""Memories, namespaced by (business or ``general``, user). Every function
takes the caller's user ``Scope``; there is no way to ask for "all memories"."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import Float, Integer, delete, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.errors import InvalidInput
from voxa.search_words import search_words
from voxa.storage.models import Memory
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow

CATEGORIES = ("FACT", "INTEREST", "PREFERENCE", "PERSONAL", "GOAL")


def _owner(scope: Scope) -> tuple[str, str]:
    """The (namespace, user) a user scope's memories are keyed by."""
    if scope.kind != "user" or scope.user_id is None:
        raise ValueError("memories are read and written in a user scope")
    return scope.memory_scope, scope.user_id


def _mine(scope: Scope) -> Any:
    namespace, user_id = _owner(scope)
    return (Memory.scope == namespace) & (Memory.user_id == user_id)


def normalize_key(key: str) -> str:
    key = re.sub(r"[^\w]+", "_", key.strip().lower()).strip("_")
    if not key:
        raise InvalidInput("a memory needs a key", code="invalid_memory")
    return key[:100]


def normalize_category(category: str) -> str:
    category = (category or "FACT").strip().upper()
    if category not in CATEGORIES:
        raise InvalidInput(f"category must be one of {', '.join(CATEGORIES)}",
                           code="invalid_memory")
    return category


async def remember(db: AsyncSession, *, scope: Scope, category: str, key: str, value: str
                   ) -> Memory:
    """Insert or update one memory (unique per namespace, category and key)."""
    value = value.strip()[:1000]
    if not value:
        raise InvalidInput("a memory needs a value", code="invalid_memory")
    namespace, user_id = _owner(scope)
    row = {"scope": namespace, "user_id": user_id, "category": normalize_category(category),
           "key": normalize_key(key), "value": value}
    now = utcnow()
    dialect = db.get_bind().dialect.name
    ins = pg_insert(Memory) if dialect == "postgresql" else sqlite_insert(Memory)
    stmt = ins.values(id=str(uuid.uuid4()), created_at=now, updated_at=now, **row)
    stmt = stmt.on_conflict_do_update(
        index_elements=["scope", "user_id", "category", "key"],
        set_={"value": row["value"], "updated_at": now},
    )
    await db.execute(stmt)
    found = await db.execute(select(Memory).where(
        _mine(scope), Memory.category == row["category"], Memory.key == row["key"]))
    return found.scalar_one()


async def recall(db: AsyncSession, *, scope: Scope, query: str, limit: int = 5) -> list[Memory]:
    """Memories whose key matches exactly, then by full-text relevance."""
    mine = _mine(scope)
    exact: list[Memory] = []
    try:
        key = normalize_key(query)
        exact = list((await db.execute(select(Memory).where(mine, Memory.key == key))).scalars())
    except InvalidInput:
        pass
    words = search_words(query)
    found: list[Memory] = []
    if words:
        if db.get_bind().dialect.name == "sqlite":
            fts = (
                text("SELECT rowid AS rid, bm25(memories_fts) AS rank FROM memories_fts "
                     "WHERE memories_fts MATCH :match")
                .bindparams(match=" OR ".join(f'"{w}"' for w in words))
                .columns(rid=Integer, rank=Float)
                .subquery("fts")
            )
            stmt = (select(Memory).join(fts, fts.c.rid == literal_column("memories.rowid"))
                    .where(mine).order_by(fts.c.rank))
        else:
            vector = func.to_tsvector("simple", Memory.key + " " + Memory.value)
            tsq = func.to_tsquery("simple", " | ".join(words))
            stmt = select(Memory).where(mine, vector.op("@@")(tsq)).order_by(
                func.ts_rank(vector, tsq).desc())
        found = list((await db.execute(stmt.limit(limit))).scalars())
    seen, out = set(), []
    for m in exact + found:
        if m.id not in seen:
            seen.add(m.id)
            out.append(m)
    return out[:limit]


async def list_memories(db: AsyncSession, *, scope: Scope, limit: int = 200) -> list[Memory]:
    stmt = (select(Memory).where(_mine(scope))
            .order_by(Memory.updated_at.desc()).limit(limit))
    return list((await db.execute(stmt)).scalars())


async def forget(db: AsyncSession, *, scope: Scope, memory_id: str | None = None) -> int:
    """Delete one memory, or all of the scope's when ``memory_id`` is None."""
    stmt = delete(Memory).where(_mine(scope))
    if memory_id is not None:
        stmt = stmt.where(Memory.id == memory_id)
    return int((await db.execute(stmt)).rowcount)  # type: ignore[attr-defined]
