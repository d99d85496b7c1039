"""Operator-only administration: per-business limit overrides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from voxa.api.deps import Operator, RuntimeDep
from voxa.api.schemas import LimitsOut, LimitsPatch
from voxa.errors import NotFound
from voxa.limits import catalog
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.storage.models import Business
from voxa.storage.repos import businesses as businesses_repo

log = get_logger(__name__)

router = APIRouter(prefix="/v1/operator", tags=["operator"])

SlugPath = Annotated[str, Path(max_length=64)]


def _out(rt: Runtime, business: Business) -> LimitsOut:
    overrides = dict(business.limits or {})
    return LimitsOut(business=business.slug, overrides=overrides,
                     effective=catalog.effective(rt.settings, overrides))


@router.get("/businesses/{slug}/limits", response_model=LimitsOut)
async def get_limits(slug: SlugPath, rt: RuntimeDep, _op: Operator) -> LimitsOut:
    async with rt.db() as db:
        business = await businesses_repo.get_by_slug(db, slug)
    if business is None:
        raise NotFound("business not found", code="unknown_business")
    return _out(rt, business)


@router.patch("/businesses/{slug}/limits", response_model=LimitsOut)
async def patch_limits(body: LimitsPatch, slug: SlugPath, rt: RuntimeDep,
                       _op: Operator) -> LimitsOut:
    """Override the operator's defaults for one business (``null`` removes one)."""
    async with rt.db() as db:
        business = await businesses_repo.get_by_slug(db, slug)
        if business is None:
            raise NotFound("business not found", code="unknown_business")
        merged = {k: v for k, v in {**(business.limits or {}), **body.limits}.items()
                  if v is not None}
        business.limits = merged
        await db.commit()
    await rt.directory.changed(rt.store, business_id=business.id, slug=business.slug)
    log.info("business_limits_set", business=slug, overrides=merged)
    return _out(rt, business)
