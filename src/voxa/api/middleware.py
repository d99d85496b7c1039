"""ASGI middleware: request size limit, request id + access log, latency metric,
per-request database tenant."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxa.logs import get_logger
from voxa.metrics import Metrics
from voxa.storage.tenancy import bind_db_scope, reset_db_scope

log = get_logger("voxa.http")


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, before any handler runs."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = {
            "code": "payload_too_large",
            "message": f"request body exceeds {self.max_bytes} bytes",
        }
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await _send_json(send, 413, {"error": too_large})
                return
        # Read the whole (bounded) body first, then replay it: the limit holds
        # for chunked uploads too, and nothing reaches a handler when it trips.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await _send_json(send, 413, {"error": too_large})
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.request_latency.labels(scope["method"], path, str(status)).observe(elapsed)
            log.info(
                "http_request",
                method=scope["method"],
                path=scope["path"],
                route=path,
                status=status,
                ms=round(elapsed * 1000, 1),
            )
            structlog.contextvars.unbind_contextvars("request_id")


class DbScopeMiddleware:
    """Each request starts with no database tenant bound and leaves none behind:
    authentication binds one (``deps.optional_principal``), and it must not
    outlive the request in a caller sharing the context (in-process clients)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = bind_db_scope(None)
        try:
            await self.app(scope, receive, send)
        finally:
            reset_db_scope(token)
