"""The owner's live events (issue 14 part 2): ``GET /v1/businesses/{slug}/events``
as Server-Sent Events. ``event: handoff`` carries the sessions waiting for a
person, sent when the stream opens and whenever the list changes (any API
process: the change is a version key in the shared store); a comment line every
heartbeat keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from voxa.api.deps import OwnedBusiness, RuntimeDep
from voxa.errors import RateLimited
from voxa.runtime import Runtime
from voxa.sessions import handoff_feed

router = APIRouter(prefix="/v1/businesses", tags=["businesses"])


def _event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def _stream(request: Request, rt: Runtime, business_id: str,
                  slot: tuple[str, str]) -> AsyncIterator[bytes]:
    s = rt.settings
    slot_ttl = s.owner_events_heartbeat_seconds * 3
    try:
        yield b"retry: 3000\n\n"
        seen = await handoff_feed.version(rt.store, business_id)
        waiting = await handoff_feed.waiting_sessions(rt, business_id)
        yield _event("handoff", {"waiting": waiting})
        started = last_beat = time.monotonic()
        while time.monotonic() - started < s.owner_events_max_seconds:
            await asyncio.sleep(s.owner_events_poll_seconds)
            if await request.is_disconnected():
                return
            now = await handoff_feed.version(rt.store, business_id)
            if now != seen:
                seen = now
                waiting = await handoff_feed.waiting_sessions(rt, business_id)
                yield _event("handoff", {"waiting": waiting})
            if time.monotonic() - last_beat >= s.owner_events_heartbeat_seconds:
                last_beat = time.monotonic()
                if not await handoff_feed.refresh_slot(rt.store, slot, ttl=slot_ttl):
                    return  # the slot lapsed and may be someone else's now
                yield b": heartbeat\n\n"
    finally:
        await handoff_feed.release_slot(rt.store, slot)


@router.get("/{slug}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "Server-Sent Events: `event: handoff`, "
                                            "`data: {\"waiting\": [...]}`"}})
async def owner_events(request: Request, business: OwnedBusiness,
                       rt: RuntimeDep) -> StreamingResponse:
    """Live alerts for the business's owners: sessions waiting for a person."""
    s = rt.settings
    slot = await handoff_feed.take_slot(rt.store, business.id,
                                        slots=s.owner_events_max_streams,
                                        ttl=s.owner_events_heartbeat_seconds * 3)
    if slot is None:
        raise RateLimited("too many live event streams are open for this business",
                          retry_after=s.owner_events_heartbeat_seconds,
                          code="too_many_streams")
    return StreamingResponse(_stream(request, rt, business.id, slot),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store",
                                      "X-Accel-Buffering": "no"})
