"""Knowledge documents and their passages, always within one business's scope."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import Float, Integer, delete, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from voxa import embeddings
from voxa.domain import DocumentKind
from voxa.errors import InvalidInput
from voxa.knowledge.text import split_passages
from voxa.search_words import search_words
from voxa.storage.models import KnowledgeDocument, KnowledgePassage
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow


def _business(scope: Scope) -> str:
    if scope.business_id is None:
        raise InvalidInput("knowledge belongs to a business", code="no_business")
    return scope.business_id


async def count_documents(db: AsyncSession, *, scope: Scope) -> int:
    stmt = select(func.count()).select_from(KnowledgeDocument).where(
        KnowledgeDocument.business_id == _business(scope))
    return int((await db.execute(stmt)).scalar_one())


async def list_documents(db: AsyncSession, *, scope: Scope, limit: int = 500
                         ) -> list[KnowledgeDocument]:
    stmt = (select(KnowledgeDocument)
            .where(KnowledgeDocument.business_id == _business(scope))
            .order_by(KnowledgeDocument.updated_at.desc()).limit(limit))
    return list((await db.execute(stmt)).scalars())


async def get_document(db: AsyncSession, document_id: str, *, scope: Scope
                       ) -> KnowledgeDocument | None:
    stmt = select(KnowledgeDocument).where(KnowledgeDocument.id == document_id,
                                           KnowledgeDocument.business_id == _business(scope))
    return (await db.execute(stmt)).scalar_one_or_none()


async def _vectors(pieces: list[str], by_meaning: bool) -> list[bytes | None]:
    if not (by_meaning and pieces and await embeddings.ready()):
        return [None] * len(pieces)
    return [embeddings.to_bytes(v) for v in await embeddings.embed(pieces)]


async def _index(db: AsyncSession, doc: KnowledgeDocument, *, by_meaning: bool) -> int:
    await db.execute(delete(KnowledgePassage).where(KnowledgePassage.document_id == doc.id))
    pieces = split_passages(f"{doc.title}\n\n{doc.source}")
    for i, (piece, vector) in enumerate(zip(pieces, await _vectors(pieces, by_meaning),
                                            strict=True)):
        db.add(KnowledgePassage(business_id=doc.business_id, document_id=doc.id, ordinal=i,
                                text=piece, embedding=vector))
    await db.flush()
    return len(pieces)


async def add_document(db: AsyncSession, *, scope: Scope, title: str, kind: str, source: str,
                       by_meaning: bool = True) -> KnowledgeDocument:
    now = utcnow()
    doc = KnowledgeDocument(business_id=_business(scope), title=title, kind=kind, source=source,
                            created_at=now, updated_at=now)
    db.add(doc)
    await db.flush()
    await _index(db, doc, by_meaning=by_meaning)
    return doc


async def replace_document(db: AsyncSession, doc: KnowledgeDocument, *, title: str, kind: str,
                           source: str, by_meaning: bool = True) -> KnowledgeDocument:
    """New content for ``doc`` (already loaded within its scope); re-indexed at once."""
    doc.title, doc.kind, doc.source, doc.updated_at = title, DocumentKind(kind), source, utcnow()
    await db.flush()
    await _index(db, doc, by_meaning=by_meaning)
    return doc


async def delete_document(db: AsyncSession, document_id: str, *, scope: Scope) -> bool:
    business_id = _business(scope)
    # Passages first: SQLite enforces no foreign keys unless told to.
    await db.execute(delete(KnowledgePassage).where(
        KnowledgePassage.document_id == document_id,
        KnowledgePassage.business_id == business_id))
    result = await db.execute(delete(KnowledgeDocument).where(
        KnowledgeDocument.id == document_id, KnowledgeDocument.business_id == business_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def passage_count(db: AsyncSession, document_id: str, *, scope: Scope) -> int:
    stmt = select(func.count()).select_from(KnowledgePassage).where(
        KnowledgePassage.document_id == document_id,
        KnowledgePassage.business_id == _business(scope))
    return int((await db.execute(stmt)).scalar_one())


@dataclass(frozen=True, slots=True)
class ByMeaning:
    """Find passages by meaning too: the query's embedding, the least cosine
    similarity that counts, and how many of the business's passages to compare."""

    vector: embeddings.Vectors
    min_similarity: float
    scan: int


# Reciprocal rank fusion's constant: a passage ranked well by one method is
# not drowned by the other's long tail.
_FUSION_K = 60


async def search(db: AsyncSession, query: str, *, scope: Scope, limit: int = 3,
                 meaning: ByMeaning | None = None) -> list[tuple[KnowledgePassage, str]]:
    """The business's passages best matching ``query``, with their document's
    title: by words (full text), fused with by meaning when ``meaning`` is given."""
    if meaning is None:
        return await _by_words(db, query, scope=scope, limit=limit)
    by_words = await _by_words(db, query, scope=scope, limit=limit * 3)
    by_meaning = await _by_meaning(db, meaning, scope=scope, limit=limit * 3)
    scores: dict[int, float] = {}
    found: dict[int, tuple[KnowledgePassage, str]] = {}
    for ranking in (by_words, by_meaning):
        for rank, (passage, title) in enumerate(ranking):
            scores[passage.id] = scores.get(passage.id, 0.0) + 1 / (_FUSION_K + rank)
            found.setdefault(passage.id, (passage, title))
    best = sorted(scores, key=lambda pid: -scores[pid])[:limit]
    return [found[pid] for pid in best]


async def _by_meaning(db: AsyncSession, meaning: ByMeaning, *, scope: Scope, limit: int
                      ) -> list[tuple[KnowledgePassage, str]]:
    stmt = (select(KnowledgePassage.id, KnowledgePassage.embedding)
            .where(KnowledgePassage.business_id == _business(scope),
                   KnowledgePassage.embedding.is_not(None))
            .order_by(KnowledgePassage.id.desc()).limit(meaning.scan))
    rows = (await db.execute(stmt)).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    matrix = np.stack([embeddings.from_bytes(r.embedding) for r in rows])
    similarity = matrix @ np.asarray(meaning.vector, dtype=np.float32)
    order = [i for i in np.argsort(-similarity)[:limit]
             if similarity[i] >= meaning.min_similarity]
    if not order:
        return []
    chosen = [ids[i] for i in order]
    loaded = await db.execute(
        select(KnowledgePassage, KnowledgeDocument.title)
        .join(KnowledgeDocument, KnowledgeDocument.id == KnowledgePassage.document_id)
        .where(KnowledgePassage.id.in_(chosen),
               KnowledgePassage.business_id == _business(scope)))
    by_id = {p.id: (p, str(title)) for p, title in loaded.all()}
    return [by_id[pid] for pid in chosen if pid in by_id]


async def _by_words(db: AsyncSession, query: str, *, scope: Scope, limit: int
                    ) -> list[tuple[KnowledgePassage, str]]:
    words = search_words(query)
    if not words:
        return []
    mine = KnowledgePassage.business_id == _business(scope)
    base = select(KnowledgePassage, KnowledgeDocument.title).join(
        KnowledgeDocument, KnowledgeDocument.id == KnowledgePassage.document_id)
    if db.get_bind().dialect.name == "sqlite":
        fts = (text("SELECT rowid AS rid, bm25(knowledge_fts) AS rank FROM knowledge_fts "
                    "WHERE knowledge_fts MATCH :match")
               .bindparams(match=" OR ".join(f'"{w}"' for w in words))
               .columns(rid=Integer, rank=Float).subquery("fts"))
        stmt = (base.join(fts, fts.c.rid == literal_column("knowledge_passages.id"))
                .where(mine).order_by(fts.c.rank))
    else:
        vector = func.to_tsvector("simple", KnowledgePassage.text)
        tsq = func.to_tsquery("simple", " | ".join(words))
        stmt = base.where(mine, vector.op("@@")(tsq)).order_by(
            func.ts_rank(vector, tsq).desc())
    rows = (await db.execute(stmt.limit(limit))).all()
    return [(p, str(title)) for p, title in rows]
