"""Sends due deliveries (the job runner calls :func:`run_due`).

A delivery is claimed with a conditional UPDATE (pending and due, or a
``sending`` lease that ran out) that only one runner can win, so two runners
— two ``serve`` processes, Celery workers — never send the same attempt.
Every attempt of one delivery carries the same ``webhook-id``. Failures are
retried with exponential back-off until ``webhooks_max_attempts``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from sqlalchemy import and_, or_, select, update
from standardwebhooks.webhooks import Webhook

from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.storage.models import WebhookDelivery, WebhookEndpoint
from voxa.storage.scope import Scope
from voxa.storage.tenancy import db_scope
from voxa.storage.types import utcnow
from voxa.webhooks.targets import UnsafeTarget, check_url, resolver

log = get_logger(__name__)

BATCH = 20
MAX_BACKOFF_SECONDS = 6 * 3600
USER_AGENT = "voxa-webhooks/1"


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff_seconds(attempts: int, base: float) -> float:
    """Wait after the ``attempts``-th failed attempt: base, 2·base, 4·base, …"""
    return float(min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


async def _claim(rt: Runtime, delivery_id: str, lease: float) -> bool:
    now = utcnow()
    due = or_(and_(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now),
              and_(WebhookDelivery.status == "sending", WebhookDelivery.claimed_until < now))
    async with rt.db() as db:
        result = await db.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, due)
            .values(status="sending", claimed_until=now + timedelta(seconds=lease),
                    attempts=WebhookDelivery.attempts + 1, updated_at=now))
        await db.commit()
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def _post(http: aiohttp.ClientSession, endpoint: WebhookEndpoint,
                delivery: WebhookDelivery, *, allow_private: bool) -> Outcome:
    body = json.dumps(delivery.payload, separators=(",", ":"))
    now = utcnow()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(delivery.message_id, now, body),
    }
    try:
        check_url(endpoint.url, allow_private=allow_private)
        async with http.post(endpoint.url, data=body.encode(), headers=headers,
                             allow_redirects=False) as response:
            return Outcome(response.status, None)
    except UnsafeTarget as exc:
        return Outcome(None, exc.message[:300])
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:300])


async def _finish(rt: Runtime, delivery: WebhookDelivery, attempts: int, result: Outcome) -> str:
    settings = rt.settings
    now = utcnow()
    if result.ok:
        status, next_at = "succeeded", now
    elif attempts >= settings.webhooks_max_attempts:
        status, next_at = "failed", now
    else:
        status = "pending"
        next_at = now + timedelta(seconds=backoff_seconds(attempts,
                                                          settings.webhooks_retry_base_seconds))
    async with rt.db() as db:
        await db.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(
            status=status, next_attempt_at=next_at, claimed_until=None,
            last_status_code=result.status_code, last_error=result.error, updated_at=now))
        await db.commit()
    log.info("webhook_attempt", delivery_id=delivery.id, event_type=delivery.event_type,
             attempt=attempts, status=status, status_code=result.status_code)
    return status


async def _deliver(rt: Runtime, http: aiohttp.ClientSession, delivery_id: str) -> str | None:
    lease = rt.settings.webhooks_timeout_seconds * 3
    if not await _claim(rt, delivery_id, lease):
        return None  # another runner has it
    async with rt.db() as db:
        delivery = await db.get(WebhookDelivery, delivery_id)
        endpoint = await db.get(WebhookEndpoint, delivery.endpoint_id) if delivery else None
    if delivery is None or endpoint is None:
        return None  # deleted with its endpoint meanwhile
    result = await _post(http, endpoint, delivery,
                         allow_private=rt.settings.webhooks_allow_private)
    return await _finish(rt, delivery, delivery.attempts, result)


async def run_due(rt: Runtime) -> dict[str, int]:
    """Send what is due now (one batch); counts by resulting status."""
    settings = rt.settings
    with db_scope(Scope.system()):
        now = utcnow()
        async with rt.db() as db:
            ids = list((await db.execute(
                select(WebhookDelivery.id).where(or_(
                    and_(WebhookDelivery.status == "pending",
                         WebhookDelivery.next_attempt_at <= now),
                    and_(WebhookDelivery.status == "sending",
                         WebhookDelivery.claimed_until < now)))
                .order_by(WebhookDelivery.next_attempt_at).limit(BATCH))).scalars())
        counts: dict[str, int] = {}
        if not ids:
            return counts
        timeout = aiohttp.ClientTimeout(total=settings.webhooks_timeout_seconds)
        connector = aiohttp.TCPConnector(
            resolver=resolver(allow_private=settings.webhooks_allow_private), limit=10)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector,
                                         trust_env=False) as http:
            results = await asyncio.gather(*(_deliver(rt, http, i) for i in ids))
        for status in results:
            if status is not None:
                counts[status] = counts.get(status, 0) + 1
        return counts
