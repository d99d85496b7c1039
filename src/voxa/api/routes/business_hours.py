"""The business's opening hours (owners only): outside them a request for a
person is answered with the next opening time and the offer of a ticket."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from voxa.api.deps import OwnedBusiness, RuntimeDep
from voxa.errors import NotFound
from voxa.sessions import business_hours
from voxa.sessions.business_hours import OpeningHours
from voxa.storage.repos import businesses as businesses_repo
from voxa.storage.scope import Scope

router = APIRouter(prefix="/v1/businesses", tags=["businesses"])


class HoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hours: OpeningHours | None = Field(description="null: always open")


class HoursOut(BaseModel):
    hours: OpeningHours | None
    open_now: bool
    next_opening: str | None = Field(description="local ISO time of the next opening "
                                                  "while closed")


def _out(hours: OpeningHours | None, rt: RuntimeDep) -> HoursOut:
    now = rt.clock()
    is_open = business_hours.is_open(hours, now)
    opens = None if is_open or hours is None else business_hours.next_opening(hours, now)
    return HoursOut(hours=hours, open_now=is_open,
                    next_opening=opens.isoformat() if opens is not None else None)


@router.get("/{slug}/hours", response_model=HoursOut)
async def get_hours(business: OwnedBusiness, rt: RuntimeDep) -> HoursOut:
    return _out(business_hours.parse(business.hours), rt)


@router.put("/{slug}/hours", response_model=HoursOut)
async def put_hours(body: HoursIn, business: OwnedBusiness, rt: RuntimeDep) -> HoursOut:
    """Replace the opening hours (strictly validated: IANA time zone, days mon … sun,
    HH:MM intervals that do not overlap)."""
    stored = body.hours.model_dump(mode="json") if body.hours is not None else None
    async with rt.db() as db:
        if not await businesses_repo.set_hours(db, stored, scope=Scope.business(business.id)):
            raise NotFound("business not found", code="unknown_business")
        await db.commit()
    return _out(body.hours, rt)
