"""Queue an event for every endpoint of a business subscribed to it. Runs in the
caller's transaction, so an event exists exactly when what it reports does."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.storage.models import WebhookDelivery, WebhookEndpoint
from voxa.storage.types import utcnow

EVENT_TYPES = ("session.ended", "ticket.created", "ticket.updated", "handoff.requested",
               "handoff.taken", "handoff.returned")


def envelope(event_type: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The Standard Webhooks payload shape."""
    return {"type": event_type, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data}


async def emit(db: AsyncSession, *, business_id: str, event_type: str,
               data: dict[str, Any]) -> int:
    """Add one pending delivery per subscribed endpoint; the number added."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event_type!r}")
    endpoints = (await db.execute(select(WebhookEndpoint).where(
        WebhookEndpoint.business_id == business_id))).scalars()
    now = utcnow()
    payload = envelope(event_type, data, now)
    added = 0
    for endpoint in endpoints:
        if event_type not in (endpoint.events or []):
            continue
        db.add(WebhookDelivery(business_id=business_id, endpoint_id=endpoint.id,
                               message_id=f"msg_{uuid.uuid4().hex}", event_type=event_type,
                               payload=payload, status="pending", next_attempt_at=now,
                               created_at=now, updated_at=now))
        added += 1
    if added:
        await db.flush()
    return added
