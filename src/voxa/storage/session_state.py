"""The typed view of a session's ``context_data`` (written key by key through
``sessions_repo.merge_context``). Every key the code reads, with its default,
is here; nothing reads the JSON bag directly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# What a session whose start recorded no name is called (a customer who gave none).
DEFAULT_DISPLAY_NAME = "Guest"


@dataclass(frozen=True, slots=True)
class SessionState:
    display_name: str | None = None  # as recorded at start
    agent_status: str | None = None  # the voice agent's heartbeat state ("running", ...)
    summary: str | None = None  # the running summary of folded messages
    summary_upto: int = 0  # id of the last message folded into the summary
    summary_count: int = 0  # the session's message count at the last fold
    handoff: Any = None  # set once a person was asked for (voxa.sessions.handoff)

    @classmethod
    def of(cls, context_data: Mapping[str, Any] | None) -> SessionState:
        data = context_data or {}
        return cls(
            display_name=str(data["display_name"]) if data.get("display_name") else None,
            agent_status=data.get("agent_status"),
            summary=str(data["summary"]) if data.get("summary") else None,
            summary_upto=int(data.get("summary_upto") or 0),
            summary_count=int(data.get("summary_count") or 0),
            handoff=data.get("handoff"),
        )

    @property
    def handoff_state(self) -> str | None:
        """``waiting`` (a person was asked for), ``taken`` (an owner holds the
        conversation), ``returned`` (handed back), or None."""
        value = self.handoff.get("state") if isinstance(self.handoff, dict) else None
        return value if value in ("waiting", "taken", "returned") else None

    @property
    def name(self) -> str:
        """How the assistant and the grant call the user."""
        return self.display_name or DEFAULT_DISPLAY_NAME
