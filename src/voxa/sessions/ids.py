"""Session ids: ``{unix_ms}-{uuid4}`` — sortable by start time, 122 random bits
from uuid4 plus the timestamp, generated only by the server."""

from __future__ import annotations

import re
import time
import uuid

from voxa.errors import InvalidInput

SESSION_ID_PATTERN = (
    r"[0-9]{13}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)
SESSION_ID_RE = re.compile(SESSION_ID_PATTERN)


def new_session_id(now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return f"{ms:013d}-{uuid.uuid4()}"


def is_session_id(value: str) -> bool:
    return SESSION_ID_RE.fullmatch(value) is not None


def validate_session_id(value: str) -> str:
    if not is_session_id(value):
        raise InvalidInput("malformed session id", code="invalid_session_id")
    return value
