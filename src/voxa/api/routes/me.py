from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from voxa.agent import memory
from voxa.api.deps import CurrentPrincipal, RuntimeDep
from voxa.api.schemas import DeletedOut, MemoryList, MemoryOut
from voxa.auth.principal import AccountPrincipal, Principal, SessionPrincipal
from voxa.errors import Forbidden, NotFound

router = APIRouter(prefix="/v1/me", tags=["me"])


def namespace_of(principal: Principal) -> memory.Namespace:
    """The caller's own memory namespace: (business or ``general``, user)."""
    if isinstance(principal, AccountPrincipal | SessionPrincipal):
        return memory.Namespace(principal.business_id or "general", principal.user_id)
    raise Forbidden("the operator has no memories", code="no_memories")


@router.get("/memories", response_model=MemoryList)
async def list_memories(principal: CurrentPrincipal, rt: RuntimeDep) -> MemoryList:
    ns = namespace_of(principal)
    async with rt.db() as db:
        rows = await memory.list_memories(db, ns=ns)
    return MemoryList(scope=ns.scope,
                      memories=[MemoryOut.model_validate(m, from_attributes=True) for m in rows])


@router.delete("/memories", response_model=DeletedOut)
async def delete_memories(principal: CurrentPrincipal, rt: RuntimeDep,
                          id: Annotated[str | None, Query(max_length=36)] = None) -> DeletedOut:
    """Delete all of the caller's memories, or one (``?id=``)."""
    ns = namespace_of(principal)
    async with rt.db() as db:
        n = await memory.forget(db, ns=ns, memory_id=id)
        await db.commit()
    if id is not None and n == 0:
        raise NotFound("memory not found", code="memory_not_found")
    return DeletedOut(deleted=n)
