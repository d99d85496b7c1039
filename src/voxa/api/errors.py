"""Every error leaves the API as ``{"error": {"code", "message"}}`` — mapped here, once."""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError
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

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if not is_data_error(exc):
            return _internal(request, exc)
        # A value the schema let through but the database refuses (too long
        # for its column, out of range): the request's fault, not the server's.
        _count(request, "invalid_input")
        log.warning("database_refused_value", path=request.url.path,
                    sqlstate=getattr(exc.orig, "sqlstate", None))
        return JSONResponse(
            error_body("invalid_input", "a value is too long or out of range"), 422
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal(request, exc)


def _internal(request: Request, exc: Exception) -> JSONResponse:
    _count(request, "internal_error")
    log.error("unhandled_error", path=request.url.path, exc_info=exc)
    return JSONResponse(error_body("internal_error", "internal server error"), 500)


def is_data_error(exc: DBAPIError) -> bool:
    """A value the database refused: SQLAlchemy's DataError, or SQLSTATE class
    22 (asyncpg's errors reach SQLAlchemy as a plain DBAPIError)."""
    if isinstance(exc, DataError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("22")
