from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from voxa.api.deps import OwnedBusiness, RuntimeDep
from voxa.api.routes.sessions import session_out
from voxa.api.schemas import SessionList, StatsOut
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
    return SessionList(sessions=[await session_out(rt, r) for r in rows])


@router.get("/{slug}/stats", response_model=StatsOut)
async def get_stats(business: OwnedBusiness, rt: RuntimeDep) -> StatsOut:
    async with rt.db() as db:
        return StatsOut(**await business_stats(db, scope=Scope.business(business.id)))
