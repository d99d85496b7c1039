"""What an agent dispatch carries: the session it is for, and the trace
context of the request that caused it. Written by whoever dispatches (a
join's token, a re-dispatch) and checked by the worker and the job the same
way."""

from __future__ import annotations

import json

from voxa.tracing import inject_metadata


def dispatch_metadata(session_id: str) -> str:
    """The dispatch's metadata for ``session_id``, with the current trace context."""
    return json.dumps(inject_metadata({"session_id": session_id}))


def metadata_session(metadata: str | None) -> str | None:
    """The session a dispatch's metadata names; None when it names none or
    cannot be read (a dispatch made outside voxa carries none)."""
    try:
        data = json.loads(metadata or "{}")
    except ValueError:
        return None
    value = data.get("session_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def names_another_session(metadata: str | None, session_id: str) -> bool:
    """True when the metadata names a session other than ``session_id``: a
    dispatch for one room must never start a job for another session."""
    named = metadata_session(metadata)
    return named is not None and named != session_id
