"""A business's knowledge base: its owners add, replace and delete
FAQ entries and documents; customers' turns retrieve from them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from voxa.api.deps import OwnedBusiness, RuntimeDep
from voxa.api.schemas import DeletedOut, KnowledgeIn, KnowledgeList, KnowledgeOut, KnowledgeSummary
from voxa.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from voxa.knowledge import store
from voxa.knowledge.text import extract, faq_text
from voxa.limits.admission import business_overrides
from voxa.runtime import Runtime
from voxa.storage.models import Business, KnowledgeDocument
from voxa.storage.scope import Scope

router = APIRouter(prefix="/v1/businesses", tags=["knowledge"])
DocumentId = Annotated[str, Path(max_length=36)]


def _content(body: KnowledgeIn, max_chars: int) -> tuple[str, str]:
    """(title, plain text) of an upload, checked."""
    if body.kind == "faq":
        if not body.question or not body.answer or body.content is not None:
            raise InvalidInput("an FAQ entry has a question and an answer",
                               code="invalid_document")
        title, source = (body.title or body.question)[:200], faq_text(body.question, body.answer)
    else:
        if not body.title or not body.content or body.question or body.answer:
            raise InvalidInput("a document has a title and content", code="invalid_document")
        title, source = body.title, extract(body.kind, body.content)
    if not source:
        raise InvalidInput("the document has no text", code="invalid_document")
    if len(source) > max_chars:
        raise PayloadTooLarge(f"a document may hold at most {max_chars} characters of text",
                              code="document_too_large")
    return title, source


async def _admit_upload(rt: Runtime, business: Business) -> None:
    async with rt.db() as db:
        overrides = await business_overrides(db, business.id)
    await rt.limiter.hit("knowledge_uploads_per_business", business.id, overrides=overrides,
                         message="too many knowledge uploads for this business; retry later")


def _out(doc: KnowledgeDocument, passages: int) -> KnowledgeOut:
    return KnowledgeOut(id=doc.id, title=doc.title, kind=doc.kind, source=doc.source,
                        passages=passages, created_at=doc.created_at, updated_at=doc.updated_at)


@router.get("/{slug}/knowledge", response_model=KnowledgeList)
async def list_knowledge(business: OwnedBusiness, rt: RuntimeDep) -> KnowledgeList:
    async with rt.db() as db:
        docs = await store.list_documents(db, scope=Scope.business(business.id))
    return KnowledgeList(documents=[KnowledgeSummary.model_validate(d, from_attributes=True)
                                    for d in docs])


@router.post("/{slug}/knowledge", response_model=KnowledgeOut, status_code=201)
async def add_knowledge(body: KnowledgeIn, business: OwnedBusiness, rt: RuntimeDep
                        ) -> KnowledgeOut:
    title, source = _content(body, rt.settings.knowledge_max_document_chars)
    await _admit_upload(rt, business)
    scope = Scope.business(business.id)
    async with rt.db() as db:
        cap = rt.settings.knowledge_max_documents
        if await store.count_documents(db, scope=scope) >= cap:
            raise Conflict(f"this business already has {cap} documents; delete one first",
                           code="too_many_documents")
        doc = await store.add_document(db, scope=scope, title=title, kind=body.kind,
                                       source=source,
                                       by_meaning=rt.settings.knowledge_embeddings)
        passages = await store.passage_count(db, doc.id, scope=scope)
        await db.commit()
    return _out(doc, passages)


@router.get("/{slug}/knowledge/{document_id}", response_model=KnowledgeOut)
async def get_knowledge(business: OwnedBusiness, rt: RuntimeDep, document_id: DocumentId
                        ) -> KnowledgeOut:
    scope = Scope.business(business.id)
    async with rt.db() as db:
        doc = await store.get_document(db, document_id, scope=scope)
        if doc is None:
            raise NotFound("document not found", code="document_not_found")
        return _out(doc, await store.passage_count(db, doc.id, scope=scope))


@router.put("/{slug}/knowledge/{document_id}", response_model=KnowledgeOut)
async def put_knowledge(body: KnowledgeIn, business: OwnedBusiness, rt: RuntimeDep,
                        document_id: DocumentId) -> KnowledgeOut:
    title, source = _content(body, rt.settings.knowledge_max_document_chars)
    scope = Scope.business(business.id)
    async with rt.db() as db:
        doc = await store.get_document(db, document_id, scope=scope)
        if doc is None:
            raise NotFound("document not found", code="document_not_found")
    await _admit_upload(rt, business)
    async with rt.db() as db:
        doc = await store.get_document(db, document_id, scope=scope)
        if doc is None:
            raise NotFound("document not found", code="document_not_found")
        await store.replace_document(db, doc, title=title, kind=body.kind, source=source,
                                     by_meaning=rt.settings.knowledge_embeddings)
        passages = await store.passage_count(db, doc.id, scope=scope)
        await db.commit()
    return _out(doc, passages)


@router.delete("/{slug}/knowledge/{document_id}", response_model=DeletedOut)
async def delete_knowledge(business: OwnedBusiness, rt: RuntimeDep, document_id: DocumentId
                           ) -> DeletedOut:
    async with rt.db() as db:
        deleted = await store.delete_document(db, document_id, scope=Scope.business(business.id))
        await db.commit()
    if not deleted:
        raise NotFound("document not found", code="document_not_found")
    return DeletedOut(deleted=1)
