"""A real HTTP receiver for webhook tests: an aiohttp app on 127.0.0.1, port 0."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Received:
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    # statuses to answer in turn; the last one repeats
    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow receiver, not a wait on a condition
        self.requests.append(Received({k.lower(): v for k, v in request.headers.items()}, body))
        self.changed.set()
        index = min(len(self.requests) - 1, len(self.statuses) - 1)
        return web.Response(status=self.statuses[index], text="ok")

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(30):
            while len(self.requests) < count:
                self.changed.clear()
                await self.changed.wait()


@asynccontextmanager
async def receiver(statuses: list[int] | None = None, delay: float = 0.0
                   ) -> AsyncIterator[Receiver]:
    rec = Receiver(statuses=statuses or [200], delay=delay)
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    rec.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield rec
    finally:
        await runner.cleanup()
