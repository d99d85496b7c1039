"""Domain errors. Each carries a stable code and an HTTP status; the API maps
them to the JSON error shape in one place (``voxa.api.errors``)."""

from __future__ import annotations


class VoxaError(Exception):
    status: int = 400
    code: str = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        # Seconds after which the same request may succeed (sent as Retry-After).
        self.retry_after = retry_after
        if code is not None:
            self.code = code


class InvalidInput(VoxaError):
    status = 400
    code = "invalid_input"


class Unsupported(InvalidInput):
    """Well-formed, but this deployment cannot do it (a language recognition
    does not support, a voice no configured engine speaks)."""

    status = 422
    code = "unsupported"


class Unauthenticated(VoxaError):
    status = 401
    code = "unauthenticated"


class Forbidden(VoxaError):
    status = 403
    code = "forbidden"


class NotFound(VoxaError):
    status = 404
    code = "not_found"


class Conflict(VoxaError):
    status = 409
    code = "conflict"


class Gone(VoxaError):
    status = 410
    code = "gone"


class PayloadTooLarge(VoxaError):
    status = 413
    code = "payload_too_large"


class Busy(VoxaError):
    """Too many requests waiting on one resource (e.g. turns queued on a session)."""

    status = 429
    code = "busy"


class RateLimited(VoxaError):
    """A limit or quota was reached; ``retry_after`` says when to try again."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code, retry_after=retry_after)


class UpstreamError(VoxaError):
    """A provider (LLM, STT, TTS, LiveKit) failed. ``retryable`` tells clients
    whether the same request may succeed later."""

    status = 502
    code = "upstream_error"

    def __init__(self, message: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable
        if retryable:
            self.status = 503


class Unavailable(VoxaError):
    status = 503
    code = "unavailable"
