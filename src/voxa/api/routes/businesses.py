from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from voxa.agent import tickets
from voxa.api.deps import OwnedBusiness, RuntimeDep
from voxa.api.routes.sessions import session_out
from voxa.api.schemas import SessionList, StatsOut, TicketList, TicketOut, TicketPatch
from voxa.errors import NotFound
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.repos.stats import business_stats
from voxa.storage.scope import Scope

router = APIRouter(prefix="/v1/businesses", tags=["businesses"])


@router.get("/{slug}/sessions", response_model=SessionList)
async def list_business_sessions(
    business: OwnedBusiness,
    rt: RuntimeDep,
    status: Annotated[Literal["active", "ended", "timeout"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SessionList:
    async with rt.db() as db:
        rows = await sessions_repo.list_sessions(
            db, scope=Scope.business(business.id), status=status, limit=limit
        )
    return SessionList(sessions=[await session_out(rt, r, slug=business.slug) for r in rows])


@router.get("/{slug}/stats", response_model=StatsOut)
async def get_stats(business: OwnedBusiness, rt: RuntimeDep) -> StatsOut:
    async with rt.db() as db:
        return StatsOut(**await business_stats(db, scope=Scope.business(business.id)))


@router.get("/{slug}/tickets", response_model=TicketList)
async def list_business_tickets(
    business: OwnedBusiness, rt: RuntimeDep,
    status: Annotated[Literal["open", "pending", "closed"] | None, Query()] = None,
) -> TicketList:
    async with rt.db() as db:
        rows = await tickets.list_tickets(db, scope=Scope.business(business.id), status=status,
                                          limit=500)
    return TicketList(tickets=[TicketOut.model_validate(t, from_attributes=True) for t in rows])


@router.get("/{slug}/tickets/{ticket_id}", response_model=TicketOut)
async def get_ticket(business: OwnedBusiness, rt: RuntimeDep,
                     ticket_id: Annotated[str, Path(max_length=36)]) -> TicketOut:
    async with rt.db() as db:
        t = await tickets.get_ticket(db, ticket_id, scope=Scope.business(business.id))
    if t is None:
        raise NotFound("ticket not found", code="ticket_not_found")
    return TicketOut.model_validate(t, from_attributes=True)


@router.patch("/{slug}/tickets/{ticket_id}", response_model=TicketOut)
async def patch_ticket(body: TicketPatch, business: OwnedBusiness, rt: RuntimeDep,
                       ticket_id: Annotated[str, Path(max_length=36)]) -> TicketOut:
    async with rt.db() as db:
        t = await tickets.update_status(db, ticket_id, body.status,
                                        scope=Scope.business(business.id))
        if t is None:
            raise NotFound("ticket not found", code="ticket_not_found")
        await db.commit()
    return TicketOut.model_validate(t, from_attributes=True)
