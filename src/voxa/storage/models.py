"""Table models. API schemas live in ``voxa.api.schemas``; these
never leave the storage and service layers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from voxa.domain import (
    Channel,
    DocumentKind,
    OutcomeKind,
    Role,
    SessionStatus,
    TicketPriority,
    TicketStatus,
)
from voxa.storage.types import EnumText, UTCDateTime, utcnow


def _uuid() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Business(Base):
    __tablename__ = "businesses"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Site origins (scheme://host[:port]) allowed to frame the customer chat (widget).
    allowed_origins: Mapped[list[Any]] = mapped_column(default=list)
    # Per-business overrides of the operator's limits and quotas (name -> value).
    limits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Opening hours (voxa.sessions.business_hours); None: always open.
    hours: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentConfig(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    business_id: Mapped[str | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # role -> instructions text; missing roles fall back to built-in defaults
    instructions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    greeting: Mapped[dict[str, Any]] = mapped_column(default=dict)
    default_config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tools: Mapped[list[Any]] = mapped_column(default=list)
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Profile(Base):
    __tablename__ = "profiles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid5(identity)
    identity: Mapped[str] = mapped_column(String(320), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # owner | general | customer
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    business_id: Mapped[str | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    is_first_login: Mapped[bool] = mapped_column(default=True)
    # Bumped by logout-everywhere and password changes: tokens carrying an older
    # version are refused.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentSession(Base):
    __tablename__ = "agent_sessions"
    __table_args__ = (
        Index("ix_agent_sessions_business_status", "business_id", "status"),
        Index("ix_agent_sessions_user", "user_id", "started_at"),
        Index("ix_agent_sessions_status_activity", "status", "last_activity_at"),
        Index("ix_agent_sessions_business_outcome", "business_id", "outcome"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    session_id: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    business_id: Mapped[str | None] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(EnumText(Role, 16))
    user_id: Mapped[str] = mapped_column(String(36))
    channel: Mapped[Channel] = mapped_column(EnumText(Channel, 16))
    room_name: Mapped[str] = mapped_column(String(160), unique=True)
    status: Mapped[SessionStatus] = mapped_column(
        EnumText(SessionStatus, 16), default=SessionStatus.active)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    website_domain: Mapped[str | None] = mapped_column(String(255))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    # The fencing token of text turns: bumped by each turn that holds the
    # session's lease; a reply is stored only while its number is still current.
    turn_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    context_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    end_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    # Written once as the session closes (voxa.sessions.outcomes).
    outcome: Mapped[OutcomeKind | None] = mapped_column(EnumText(OutcomeKind, 24), default=None)
    outcome_summary: Mapped[str | None] = mapped_column(Text, default=None)
    contact_name: Mapped[str | None] = mapped_column(String(200), default=None)
    contact_email: Mapped[str | None] = mapped_column(String(320), default=None)


class AgentMessage(Base):
    __tablename__ = "agent_messages"
    __table_args__ = (
        Index("ix_agent_messages_session_seq", "session_id", "id"),
        Index("ix_agent_messages_created", "created_at"),
        UniqueConstraint("session_id", "client_message_id", name="uq_agent_messages_client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("agent_sessions.session_id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(16))  # user | assistant | system | tool
    content: Mapped[str] = mapped_column(Text)
    client_message_id: Mapped[str | None] = mapped_column(String(64), default=None)
    reply_to_id: Mapped[int | None] = mapped_column(Integer, default=None)
    audio_url: Mapped[str | None] = mapped_column(String(500), default=None)
    audio_duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    tokens_used: Mapped[int | None] = mapped_column(Integer, default=None)
    latency_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    model_used: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Memory(Base):
    __tablename__ = "memories"
    __table_args__ = (
        UniqueConstraint("scope", "user_id", "category", "key", name="uq_memories_key"),
        Index("ix_memories_owner", "scope", "user_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    scope: Mapped[str] = mapped_column(String(64))  # business id or "general"
    user_id: Mapped[str] = mapped_column(String(36))
    category: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_business_status", "business_id", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    priority: Mapped[TicketPriority] = mapped_column(
        EnumText(TicketPriority, 16), default=TicketPriority.normal)
    status: Mapped[TicketStatus] = mapped_column(
        EnumText(TicketStatus, 16), default=TicketStatus.open)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(Base):
    """An HTTPS endpoint a business registered for some events (Standard Webhooks)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    business_id: Mapped[str] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[Any]] = mapped_column(default=list)
    # whsec_<base64>: signs every delivery; shown to the owner once, at creation
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint; ``message_id`` (webhook-id) is the same on
    every attempt so receivers can drop duplicates."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # pending | sending (claimed by a runner) | succeeded | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # a claimed delivery whose runner died is pending again after this
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgeDocument(Base):
    """An owner's FAQ entry or document; ``source`` is the extracted plain text."""

    __tablename__ = "knowledge_documents"
    __table_args__ = (Index("ix_knowledge_documents_business", "business_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[DocumentKind] = mapped_column(EnumText(DocumentKind, 16))
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgePassage(Base):
    """One searchable piece of a document (full-text indexed by migration 0006)."""

    __tablename__ = "knowledge_passages"
    __table_args__ = (Index("ix_knowledge_passages_document", "document_id", "ordinal"),
                      Index("ix_knowledge_passages_business", "business_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business_id: Mapped[str] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    document_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_documents.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # unit-length float32 sentence embedding (voxa.infra.embeddings), or NULL
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class KVEntry(Base):
    """Backs the SQL TTL store (``voxa.kv.sql``); not domain data."""

    __tablename__ = "kv_entries"
    __table_args__ = (Index("ix_kv_entries_expires", "expires_at"),)

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[float | None] = mapped_column(default=None)
