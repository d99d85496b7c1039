from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from voxa.api.deps import CurrentPrincipal, RuntimeDep
from voxa.api.schemas import DeletedOut, MemoryList, MemoryOut
from voxa.auth.principal import AccountPrincipal, Principal, SessionPrincipal
from voxa.errors import Forbidden, NotFound
from voxa.storage.repos import memories as memories_repo
from voxa.storage.scope import Scope

router = APIRouter(prefix="/v1/me", tags=["me"])


def scope_of(principal: Principal) -> Scope:
    """The caller's own memories: (business or ``general``, user)."""
    if isinstance(principal, AccountPrincipal | SessionPrincipal):
        return Scope.user(principal.user_id, principal.business_id)
    raise Forbidden("the operator has no memories", code="no_memories")


@router.get("/memories", response_model=MemoryList)
async def list_memories(principal: CurrentPrincipal, rt: RuntimeDep) -> MemoryList:
    scope = scope_of(principal)
    async with rt.db() as db:
        rows = await memories_repo.list_memories(db, scope=scope)
    return MemoryList(scope=scope.memory_scope,
                      memories=[MemoryOut.model_validate(m, from_attributes=True) for m in rows])


@router.delete("/memories", response_model=DeletedOut)
async def delete_memories(principal: CurrentPrincipal, rt: RuntimeDep,
                          id: Annotated[str | None, Query(max_length=36)] = None) -> DeletedOut:
    """Delete all of the caller's memories, or one (``?id=``)."""
    scope = scope_of(principal)
    async with rt.db() as db:
        n = await memories_repo.forget(db, scope=scope, memory_id=id)
        await db.commit()
    if id is not None and n == 0:
        raise NotFound("memory not found", code="memory_not_found")
    return DeletedOut(deleted=n)
