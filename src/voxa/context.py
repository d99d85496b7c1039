"""Per-request / per-task identity, held in ``contextvars`` (never a global).

asyncio copies the context into each task it creates, so a value set at the
start of a request or an agent job is visible to everything that work spawns and
to nothing else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

import structlog


@dataclass(frozen=True, slots=True)
class SessionContext:
    session_id: str
    role: str
    business_id: str | None
    business_slug: str | None
    user_id: str
    user_name: str | None = None


_current_session: ContextVar[SessionContext | None] = ContextVar("voxa_session", default=None)


def current_session() -> SessionContext:
    """The session the running task works for; raises if none was set."""
    ctx = _current_session.get()
    if ctx is None:
        raise LookupError("no session context set for this task")
    return ctx


def maybe_current_session() -> SessionContext | None:
    return _current_session.get()


@contextlib.contextmanager
def session_scope(ctx: SessionContext) -> Iterator[SessionContext]:
    """Bind ``ctx`` (and its log fields) for the duration of the block."""
    token = _current_session.set(ctx)
    log_tokens = structlog.contextvars.bind_contextvars(
        session_id=ctx.session_id, role=ctx.role, business=ctx.business_slug
    )
    try:
        yield ctx
    finally:
        structlog.contextvars.reset_contextvars(**log_tokens)
        _current_session.reset(token)
