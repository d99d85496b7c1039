"""The owner's live events stream (issue 14 part 2): a customer's request for a
person reaches the owner's open ``GET /v1/businesses/{slug}/events`` within a
poll, pushed, not polled by the page; streams per business are bounded."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn

from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.api.app import create_app
from voxa.runtime import Runtime


@contextlib.asynccontextmanager
async def live(runtime: Runtime) -> AsyncIterator[str]:
    """The app on a real socket (ASGITransport buffers whole responses)."""
    app = create_app(runtime.settings, runtime=runtime)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and not task.done(), "server did not start"
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def next_event(lines: AsyncIterator[str], name: str) -> dict[str, Any]:
    current = None
    async for line in lines:
        if line.startswith("event: "):
            current = line[len("event: "):]
        elif line.startswith("data: ") and current == name:
            data: dict[str, Any] = json.loads(line[len("data: "):])
            return data
    raise AssertionError("stream ended")


async def test_a_request_for_a_person_reaches_the_owners_stream_at_once(
        runtime: Runtime) -> None:
    async with live(runtime) as base, httpx.AsyncClient(base_url=base, timeout=30) as c:
        owner = await create_business(c, "live-co")
        s = await start_customer(c, "live-co")
        async with c.stream("GET", "/v1/businesses/live-co/events",
                            headers=bearer(owner["token"])) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            lines = r.aiter_lines()
            assert (await next_event(lines, "handoff"))["waiting"] == []
            asked = time.monotonic()
            h = await c.post(f"/v1/sessions/{s['session_id']}/handoff",
                             headers=bearer(s["session_token"]))
            assert h.status_code == 202
            got = await asyncio.wait_for(next_event(lines, "handoff"), 10)
            took = time.monotonic() - asked
            # an ended session leaves the owners' lists at once
            e = await c.post(f"/v1/sessions/{s['session_id']}/end",
                             headers=bearer(s["session_token"]))
            assert e.status_code == 200
            after_end = await asyncio.wait_for(next_event(lines, "handoff"), 10)
        assert after_end["waiting"] == []
        [w] = got["waiting"]
        assert (w["session_id"], w["via"]) == (s["session_id"], "button")
        assert took < 2, took


async def test_streams_are_bounded_and_only_for_the_owner(runtime: Runtime) -> None:
    runtime.settings = runtime.settings.model_copy(update={"owner_events_max_streams": 1})
    async with live(runtime) as base, httpx.AsyncClient(base_url=base, timeout=30) as c:
        owner = await create_business(c, "cap-co")
        other = await create_business(c, "rival-co")
        s = await start_customer(c, "cap-co")
        url = "/v1/businesses/cap-co/events"
        assert_error(await c.get(url), 401)
        assert_error(await c.get(url, headers=bearer(other["token"])), 404)
        assert_error(await c.get(url, headers=bearer(s["session_token"])), (401, 403))
        async with c.stream("GET", url, headers=bearer(owner["token"])) as r:
            assert r.status_code == 200
            # keep the line iterator referenced: a collected one closes the stream
            lines = r.aiter_lines()
            await next_event(lines, "handoff")
            async with c.stream("GET", url, headers=bearer(owner["token"])) as refused:
                # a stream here would never end: check the status before reading
                assert refused.status_code == 429, refused.status_code
                await refused.aread()
            assert_error(refused, 429, "too_many_streams")
            assert "retry-after" in refused.headers
        # the closed stream gives its slot back
        deadline = time.monotonic() + 10
        while True:
            async with c.stream("GET", url, headers=bearer(owner["token"])) as r:
                if r.status_code == 200:
                    break
            assert time.monotonic() < deadline, "the slot was not released"
            await asyncio.sleep(0.1)
