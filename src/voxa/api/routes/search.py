"""An owner's search over its business's conversations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from voxa.api.deps import OwnedBusiness, RuntimeDep
from voxa.api.schemas import SearchHitOut, SearchOut
from voxa.sessions.search import decode_cursor, encode_cursor, search
from voxa.storage.scope import Scope

router = APIRouter(prefix="/v1/businesses", tags=["search"])


@router.get("/{slug}/search", response_model=SearchOut)
async def search_conversations(
    business: OwnedBusiness, rt: RuntimeDep,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> SearchOut:
    before = decode_cursor(cursor) if cursor else None
    async with rt.db() as db:
        hits, last = await search(db, q, scope=Scope.business(business.id), limit=limit,
                                  before=before)
    return SearchOut(hits=[SearchHitOut(kind=h.kind, id=h.id, session_id=h.session_id,
                                        text=h.text, created_at=h.created_at) for h in hits],
                     next_cursor=encode_cursor(last) if last else None)
