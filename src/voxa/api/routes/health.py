from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import text

from voxa.api.deps import OperatorGate, RuntimeDep
from voxa.domain import Role
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.tenancy import db_scope

router = APIRouter(tags=["operator"])
# /readyz and /metrics answer only to the operator token while
# VOXA_PROTECT_OPERATOR_ENDPOINTS is on (the default in production).
operator_router = APIRouter(tags=["operator"], dependencies=[OperatorGate])


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz", response_model=HealthOut)
async def healthz() -> HealthOut:
    return HealthOut(status="ok")


@operator_router.get("/readyz", response_model=ReadyOut,
                     responses={503: {"model": ReadyOut, "description": "a dependency is down"}})
async def readyz(rt: RuntimeDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with rt.db() as db:
            await db.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await rt.store.ping()
        checks["store"] = "ok"
    except Exception as exc:
        checks["store"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


@operator_router.get("/metrics", response_class=PlainTextResponse)
async def metrics(rt: RuntimeDep) -> PlainTextResponse:
    with db_scope(Scope.system()):  # operator metrics count every tenant's sessions
        async with rt.db() as db:
            counts = await sessions_repo.active_counts_by_role(db, scope=Scope.system())
    for role in Role:
        rt.metrics.sessions_active.labels(role=role).set(counts.get(role, 0))
    return PlainTextResponse(rt.metrics.render(), media_type="text/plain; version=0.0.4")
