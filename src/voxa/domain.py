"""The domain's vocabulary: the closed sets of values the platform speaks in.

A leaf module (it imports nothing from voxa): columns, API schemas, tokens,
tools, access checks and the CLI all take their names from here. Every enum is
a ``StrEnum``, so a member compares equal to, serializes as and is stored as
its plain string; the database columns keep the same strings.

The ``*Name`` ``Literal`` aliases spell the same sets for the API schemas,
where a Literal keeps the published OpenAPI document and validation messages
as they are; ``tests/unit/test_domain.py`` checks each alias against its enum.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

GENERAL = "general"  # the namespace of users who belong to no business


class Role(StrEnum):
    """Who a session's assistant works for."""

    owner = "owner"
    customer = "customer"
    general = "general"


class SessionStatus(StrEnum):
    active = "active"
    ended = "ended"
    timeout = "timeout"


class Channel(StrEnum):
    text = "text"
    voice = "voice"
    phone = "phone"


class TicketStatus(StrEnum):
    open = "open"
    pending = "pending"
    closed = "closed"


class TicketPriority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class OutcomeKind(StrEnum):
    """How a session ended, written once as it closes."""

    resolved = "resolved"
    ticket_opened = "ticket_opened"
    handed_to_person = "handed_to_person"
    abandoned = "abandoned"


class DocumentKind(StrEnum):
    faq = "faq"
    text = "text"
    markdown = "markdown"
    html = "html"
    pdf = "pdf"


@dataclass(frozen=True, slots=True)
class SessionOutcome:
    """A finished session's outcome as stored on its row (and sent in
    ``session.ended``)."""

    session_id: str
    outcome: str
    summary: str
    contact_name: str | None
    contact_email: str | None


RoleName = Literal["owner", "customer", "general"]
BusinessRoleName = Literal["owner", "customer"]
SessionStatusName = Literal["active", "ended", "timeout"]
ChannelName = Literal["text", "voice", "phone"]
TicketStatusName = Literal["open", "pending", "closed"]
OutcomeKindName = Literal["resolved", "ticket_opened", "handed_to_person", "abandoned"]
DocumentKindName = Literal["faq", "text", "markdown", "html", "pdf"]


def tenant_key(business_id: str | None) -> str:
    """The key of a business's namespace: its id, or ``general`` for none.

    Memories, limits and traces are keyed by it; built here only."""
    return business_id or GENERAL
