"""Webhook endpoints of a business and their deliveries (owners only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from voxa.api.deps import OwnedBusiness, RuntimeDep
from voxa.api.webhook_schemas import (
    DeliveryList,
    DeliveryOut,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookOut,
)
from voxa.errors import NotFound
from voxa.storage.scope import Scope
from voxa.webhooks import store
from voxa.webhooks.targets import check_url

router = APIRouter(prefix="/v1/businesses", tags=["webhooks"])

IdPath = Annotated[str, Path(max_length=36)]


def _missing() -> NotFound:
    return NotFound("webhook not found", code="webhook_not_found")


@router.get("/{slug}/webhooks", response_model=WebhookList)
async def list_webhooks(business: OwnedBusiness, rt: RuntimeDep) -> WebhookList:
    async with rt.db() as db:
        rows = await store.list_endpoints(db, scope=Scope.business(business.id))
    return WebhookList(webhooks=[WebhookOut.model_validate(r, from_attributes=True)
                                 for r in rows])


@router.post("/{slug}/webhooks", response_model=WebhookCreated, status_code=201)
async def create_webhook(body: WebhookIn, business: OwnedBusiness, rt: RuntimeDep
                         ) -> WebhookCreated:
    """Register an endpoint; the answer carries its signing secret, shown only once."""
    url = check_url(body.url, allow_private=rt.settings.webhooks_allow_private)
    async with rt.db() as db:
        row = await store.create_endpoint(
            db, scope=Scope.business(business.id), url=url, events=list(body.events),
            description=body.description,
            max_endpoints=rt.settings.webhooks_max_endpoints_per_business)
        await db.commit()
    return WebhookCreated.model_validate(row, from_attributes=True)


@router.delete("/{slug}/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(business: OwnedBusiness, rt: RuntimeDep, webhook_id: IdPath
                         ) -> Response:
    async with rt.db() as db:
        if not await store.delete_endpoint(db, webhook_id, scope=Scope.business(business.id)):
            raise _missing()
        await db.commit()
    return Response(status_code=204)


@router.get("/{slug}/webhooks/{webhook_id}/deliveries", response_model=DeliveryList)
async def list_deliveries(business: OwnedBusiness, rt: RuntimeDep, webhook_id: IdPath,
                          limit: Annotated[int, Query(ge=1, le=200)] = 50) -> DeliveryList:
    scope = Scope.business(business.id)
    async with rt.db() as db:
        if await store.get_endpoint(db, webhook_id, scope=scope) is None:
            raise _missing()
        rows = await store.list_deliveries(db, webhook_id, scope=scope, limit=limit)
    return DeliveryList(deliveries=[DeliveryOut.model_validate(r, from_attributes=True)
                                    for r in rows])


@router.post("/{slug}/webhooks/{webhook_id}/deliveries/{delivery_id}/resend",
             response_model=DeliveryOut, status_code=202)
async def resend_delivery(business: OwnedBusiness, rt: RuntimeDep, webhook_id: IdPath,
                          delivery_id: IdPath) -> DeliveryOut:
    """Queue a finished delivery again with the same webhook-id."""
    async with rt.db() as db:
        row = await store.resend(db, webhook_id, delivery_id,
                                 scope=Scope.business(business.id))
        if row is None:
            raise NotFound("delivery not found", code="delivery_not_found")
        await db.commit()
    return DeliveryOut.model_validate(row, from_attributes=True)
