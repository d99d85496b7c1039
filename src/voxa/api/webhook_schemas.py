"""API schemas of the webhook routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from voxa.api.schemas import Strict

EventType = Literal["session.ended", "ticket.created", "ticket.updated", "handoff.requested",
                    "handoff.taken", "handoff.returned"]


class WebhookIn(Strict):
    url: str = Field(min_length=1, max_length=2000)
    events: list[EventType] = Field(min_length=1, max_length=6)
    description: str = Field(default="", max_length=200)


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_…: verify signatures with it; shown only now")


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class DeliveryOut(BaseModel):
    id: str
    message_id: str = Field(description="the webhook-id header, the same on every attempt")
    event_type: str
    payload: dict[str, Any]
    status: str = Field(description="pending | sending | succeeded | failed")
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]
