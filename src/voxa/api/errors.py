"""Every error leaves the API as ``{"error": {"code", "message"}}`` — mapped here, once."""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from voxa.errors import UpstreamError, VoxaError
from voxa.logs import get_logger

log = get_logger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "busy",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _count(request: Request, code: str) -> None:
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is not None:
        runtime.metrics.errors.labels(code=code).inc()


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VoxaError)
    async def _voxa(request: Request, exc: VoxaError) -> JSONResponse:
        _count(request, exc.code)
        extra: dict[str, Any] = {}
        if isinstance(exc, UpstreamError):
            extra["retryable"] = exc.retryable
        headers: dict[str, str] = {}
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
            extra["retry_after"] = max(1, math.ceil(exc.retry_after))
        return JSONResponse(
            error_body(exc.code, exc.message, **extra), exc.status, headers or None
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        _count(request, "validation_error")
        details = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        message = f"{'.'.join(first['loc'][1:]) or 'body'}: {first['msg']}"
        return JSONResponse(error_body("validation_error", message, details=details), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        _count(request, code)
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        _count(request, "internal_error")
        log.exception("unhandled_error", path=request.url.path)
        return JSONResponse(error_body("internal_error", "internal server error"), 500)
