"""Webhook endpoints and deliveries of one business (``scope=`` required)."""

from __future__ import annotations

import base64
import secrets

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.errors import Conflict, InvalidInput
from voxa.storage.models import WebhookDelivery, WebhookEndpoint
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow
from voxa.webhooks.events import EVENT_TYPES


def _business(scope: Scope) -> str:
    if scope.kind != "business" or scope.business_id is None:
        raise ValueError("webhooks are managed within one business's scope")
    return scope.business_id


def new_secret() -> str:
    """``whsec_`` + base64 of 24 random bytes (Standard Webhooks)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


async def create_endpoint(db: AsyncSession, *, scope: Scope, url: str, events: list[str],
                          description: str, max_endpoints: int) -> WebhookEndpoint:
    business_id = _business(scope)
    wanted = list(dict.fromkeys(events))
    if not wanted or any(e not in EVENT_TYPES for e in wanted):
        raise InvalidInput(f"events must be some of {', '.join(EVENT_TYPES)}",
                           code="invalid_webhook_events")
    count = (await db.execute(select(func.count()).select_from(WebhookEndpoint).where(
        scope.where(WebhookEndpoint.business_id)))).scalar_one()
    if count >= max_endpoints:
        raise Conflict(f"a business may register at most {max_endpoints} webhook endpoints",
                       code="too_many_webhooks")
    endpoint = WebhookEndpoint(business_id=business_id, url=url, events=wanted,
                               secret=new_secret(), description=description.strip()[:200])
    db.add(endpoint)
    await db.flush()
    return endpoint


async def list_endpoints(db: AsyncSession, *, scope: Scope) -> list[WebhookEndpoint]:
    stmt = (select(WebhookEndpoint).where(scope.where(WebhookEndpoint.business_id))
            .order_by(WebhookEndpoint.created_at))
    return list((await db.execute(stmt)).scalars())


async def get_endpoint(db: AsyncSession, endpoint_id: str, *, scope: Scope
                       ) -> WebhookEndpoint | None:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                         scope.where(WebhookEndpoint.business_id))
    return (await db.execute(stmt)).scalar_one_or_none()


async def delete_endpoint(db: AsyncSession, endpoint_id: str, *, scope: Scope) -> bool:
    result = await db.execute(delete(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, scope.where(WebhookEndpoint.business_id)))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def list_deliveries(db: AsyncSession, endpoint_id: str, *, scope: Scope,
                          limit: int) -> list[WebhookDelivery]:
    stmt = (select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id,
                   scope.where(WebhookDelivery.business_id))
            .order_by(WebhookDelivery.created_at.desc()).limit(limit))
    return list((await db.execute(stmt)).scalars())


async def resend(db: AsyncSession, endpoint_id: str, delivery_id: str, *, scope: Scope
                 ) -> WebhookDelivery | None:
    """Queue a finished delivery again, same webhook-id (receivers deduplicate on
    it); None when unknown, Conflict while it is still queued or being sent."""
    row = (await db.execute(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id,
        scope.where(WebhookDelivery.business_id)))).scalar_one_or_none()
    if row is None:
        return None
    now = utcnow()
    result = await db.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id,
               WebhookDelivery.status.in_(("succeeded", "failed")))
        .values(status="pending", attempts=0, next_attempt_at=now, claimed_until=None,
                updated_at=now))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this delivery is already queued", code="delivery_in_progress")
    await db.refresh(row)
    return row
