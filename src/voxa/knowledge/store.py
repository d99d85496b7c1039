"""Knowledge documents and their passages, always within one business's scope."""

from __future__ import annotations

from sqlalchemy import Float, Integer, delete, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

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


async def _index(db: AsyncSession, doc: KnowledgeDocument) -> int:
    await db.execute(delete(KnowledgePassage).where(KnowledgePassage.document_id == doc.id))
    pieces = split_passages(f"{doc.title}\n\n{doc.source}")
    for i, piece in enumerate(pieces):
        db.add(KnowledgePassage(business_id=doc.business_id, document_id=doc.id, ordinal=i,
                                text=piece))
    await db.flush()
    return len(pieces)


async def add_document(db: AsyncSession, *, scope: Scope, title: str, kind: str, source: str
                       ) -> KnowledgeDocument:
    now = utcnow()
    doc = KnowledgeDocument(business_id=_business(scope), title=title, kind=kind, source=source,
                            created_at=now, updated_at=now)
    db.add(doc)
    await db.flush()
    await _index(db, doc)
    return doc


async def replace_document(db: AsyncSession, doc: KnowledgeDocument, *, title: str, kind: str,
                           source: str) -> KnowledgeDocument:
    """New content for ``doc`` (already loaded within its scope); re-indexed at once."""
    doc.title, doc.kind, doc.source, doc.updated_at = title, DocumentKind(kind), source, utcnow()
    await db.flush()
    await _index(db, doc)
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


async def search(db: AsyncSession, query: str, *, scope: Scope, limit: int = 3
                 ) -> list[tuple[KnowledgePassage, str]]:
    """The business's passages best matching ``query``, with their document's title."""
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
