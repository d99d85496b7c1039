"""A business's opening hours: when a customer may ask for a person.

Stored on the business as ``{"timezone": "Europe/Paris", "weekly": {"mon":
[{"open": "09:00", "close": "17:30"}], ...}}``; no hours stored means always
open. Times are local to ``timezone`` (an IANA name), so opening at 09:00 stays
09:00 across daylight-saving changes. ``close`` may be ``24:00``; intervals of a
day must not overlap.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 4
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


class Interval(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    open: str = Field(description="HH:MM, local time", examples=["09:00"])
    close: str = Field(description="HH:MM (24:00 allowed), after open", examples=["17:30"])

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        for value in (self.open, self.close):
            if not _TIME.match(value):
                raise ValueError(f"{value!r} is not a time HH:MM")
        if self.open == "24:00":
            raise ValueError("a day cannot open at 24:00")
        if _minutes(self.close) <= _minutes(self.open):
            raise ValueError("close must be after open")
        return self


class OpeningHours(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = Field(max_length=64, description="IANA time zone, e.g. Europe/Paris")
    weekly: dict[str, list[Interval]] = Field(
        description="day (mon … sun) -> opening intervals; a missing day is closed")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @field_validator("weekly")
    @classmethod
    def _days(cls, v: dict[str, list[Interval]]) -> dict[str, list[Interval]]:
        for day, intervals in v.items():
            if day not in DAYS:
                raise ValueError(f"unknown day {day!r} (use {', '.join(DAYS)})")
            if len(intervals) > MAX_INTERVALS_PER_DAY:
                raise ValueError(f"at most {MAX_INTERVALS_PER_DAY} intervals a day")
            ordered = sorted(intervals, key=lambda i: _minutes(i.open))
            for a, b in pairwise(ordered):
                if _minutes(b.open) < _minutes(a.close):
                    raise ValueError(f"intervals on {day} overlap")
        return v


def parse(stored: dict[str, Any] | None) -> OpeningHours | None:
    return OpeningHours.model_validate(stored) if stored else None


def _local(hours: OpeningHours, now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(hours.timezone))


def is_open(hours: OpeningHours | None, now: datetime) -> bool:
    if hours is None:
        return True
    local = _local(hours, now)
    minute = local.hour * 60 + local.minute
    return any(_minutes(i.open) <= minute < _minutes(i.close)
               for i in hours.weekly.get(DAYS[local.weekday()], []))


def next_opening(hours: OpeningHours, now: datetime) -> datetime | None:
    """The next local opening time after ``now`` (within a week), or None if never open."""
    local = _local(hours, now)
    minute = local.hour * 60 + local.minute
    for ahead in range(8):
        day = local + timedelta(days=ahead)
        for i in sorted(hours.weekly.get(DAYS[day.weekday()], []),
                        key=lambda i: _minutes(i.open)):
            start = _minutes(i.open)
            if ahead == 0 and start <= minute:
                continue
            return day.replace(hour=start // 60, minute=start % 60, second=0, microsecond=0)
    return None


def closed_message(hours: OpeningHours, now: datetime) -> str:
    opens = next_opening(hours, now)
    when = (f"we open again on {opens:%A} at {opens:%H:%M} ({hours.timezone})"
            if opens is not None else "no opening hours are set")
    return (f"We are closed now, so nobody can join this conversation; {when}. "
            "I can open a ticket for you instead and the business will get back to you.")
