"""Memories, namespaced by (scope, user). Every function takes the
namespace as required keywords; there is no way to ask for "all memories"."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import Float, Integer, delete, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.errors import InvalidInput
from voxa.storage.models import Memory
from voxa.storage.types import utcnow

CATEGORIES = ("FACT", "INTEREST", "PREFERENCE", "PERSONAL", "GOAL")
_STOP = frozenset(
    "a an and are do does i is it me my of or the to what which who you your did was were be "
    "about know tell remember recall".split()
)


@dataclass(frozen=True, slots=True)
class Namespace:
    """Whose memories: ``scope`` is the business id, or ``general``."""

    scope: str
    user_id: str


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


async def remember(db: AsyncSession, *, ns: Namespace, category: str, key: str, value: str
                   ) -> Memory:
    """Insert or update one memory (unique per namespace, category and key)."""
    value = value.strip()[:1000]
    if not value:
        raise InvalidInput("a memory needs a value", code="invalid_memory")
    row = {"scope": ns.scope, "user_id": ns.user_id, "category": normalize_category(category),
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
        Memory.scope == ns.scope, Memory.user_id == ns.user_id,
        Memory.category == row["category"], Memory.key == row["key"]))
    return found.scalar_one()


def search_words(query: str) -> list[str]:
    """The words of ``query`` worth searching for (no stop words, at most 12)."""
    words = [w for w in re.findall(r"[^\W_]+", query.lower()) if w not in _STOP]
    return list(dict.fromkeys(words))[:12]


async def recall(db: AsyncSession, *, ns: Namespace, query: str, limit: int = 5) -> list[Memory]:
    """Memories whose key matches exactly, then by full-text relevance."""
    mine = (Memory.scope == ns.scope) & (Memory.user_id == ns.user_id)
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


async def list_memories(db: AsyncSession, *, ns: Namespace, limit: int = 200) -> list[Memory]:
    stmt = (select(Memory).where(Memory.scope == ns.scope, Memory.user_id == ns.user_id)
            .order_by(Memory.updated_at.desc()).limit(limit))
    return list((await db.execute(stmt)).scalars())


async def forget(db: AsyncSession, *, ns: Namespace, memory_id: str | None = None) -> int:
    """Delete one memory, or all of the namespace's when ``memory_id`` is None."""
    stmt = delete(Memory).where(Memory.scope == ns.scope, Memory.user_id == ns.user_id)
    if memory_id is not None:
        stmt = stmt.where(Memory.id == memory_id)
    return int((await db.execute(stmt)).rowcount)  # type: ignore[attr-defined]
