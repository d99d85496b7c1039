"""Request and response bodies. Separate from the table models on purpose:
nothing here is a database row, and nothing secret leaks by accident."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, field_validator

from voxa.domain import (
    BusinessRoleName,
    ChannelName,
    DocumentKindName,
    RoleName,
    TicketStatusName,
)
from voxa.limits.catalog import validate_overrides
from voxa.persona import texts
from voxa.sessions.config import SessionConfig, SessionConfigPatch
from voxa.web.origins import MAX_ORIGIN_CHARS, MAX_ORIGINS, parse_origin

Name = Field(min_length=1, max_length=200)
Password = Field(min_length=8, max_length=256)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OwnerIn(Strict):
    email: EmailStr
    name: str = Name
    password: str = Password


# Browsers (the voxa pages) ask for the HttpOnly session cookie instead of a
# token in the body; API clients leave it false and get a bearer token.
CookieMode = Field(
    default=False,
    description="true: set the HttpOnly session cookie (+ CSRF cookie) instead of returning "
    "the token; only from the server's own origin",
)


class BusinessCreate(Strict):
    name: str = Name
    slug: str = Field(min_length=1, max_length=64)
    owner: OwnerIn
    cookie: bool = CookieMode


class UserCreate(Strict):
    email: EmailStr
    name: str = Name
    password: str = Password
    cookie: bool = CookieMode


class LoginIn(Strict):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)
    cookie: bool = CookieMode


class PasswordChange(Strict):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Password


class BusinessOut(BaseModel):
    id: str
    slug: str
    name: str
    status: str
    created_at: datetime


class MeOut(BaseModel):
    user_id: str
    kind: str
    name: str | None
    email: str | None
    business: BusinessOut | None = None


class AccountOut(MeOut):
    # The bearer token; null when it was set as the session cookie instead.
    token: str | None = None
    expires_at: datetime | None = None


class CustomerIn(Strict):
    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None
    customer_id: str | None = Field(default=None, max_length=80)


class SessionCreate(Strict):
    role: RoleName
    business: str | None = Field(default=None, max_length=64)
    agent_id: str | None = Field(default=None, max_length=36)
    channel: ChannelName = "text"
    config: SessionConfig | None = None
    customer: CustomerIn | None = None
    website_domain: str | None = Field(default=None, max_length=255)


class LiveKitOut(BaseModel):
    url: str
    token: str


class SessionGrantOut(BaseModel):
    session_id: str
    session_token: str
    role: str
    business: str | None
    room_name: str
    status: str
    channel: str
    config: dict[str, Any]
    expires_at: datetime
    resume_until: datetime
    customer_id: str | None = None
    greeting: str | None = None  # what the assistant says first (start only)
    livekit: LiveKitOut | None


class SessionOut(BaseModel):
    session_id: str
    role: str
    business: str | None
    user_id: str
    channel: str
    room_name: str
    status: str
    config: dict[str, Any]
    message_count: int
    started_at: datetime
    last_activity_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    agent_status: str | None = None
    # waiting (a person was asked for) | taken (an owner holds it) | returned
    handoff: str | None = None
    # set once the session has ended
    outcome: str | None = None
    outcome_summary: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None


class SessionList(BaseModel):
    sessions: list[SessionOut]


class MessageOut(BaseModel):
    id: int
    role: str
    content: str
    created_at: datetime
    tokens_used: int | None = None
    latency_ms: int | None = None
    model_used: str | None = None
    # a call's turn: where its recorded audio is served (OGG/Opus), and its length
    audio_url: str | None = None
    audio_duration_ms: int | None = None


class MessageList(BaseModel):
    messages: list[MessageOut]


class MessageIn(Strict):
    # The configured VOXA_MAX_TEXT_CHARS applies on top of this hard ceiling.
    text: str = Field(min_length=1, max_length=32_000)
    client_message_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$"
    )


class TurnOut(BaseModel):
    message: MessageOut
    reply: MessageOut | None = Field(
        default=None, description="null while a person from the business has taken the "
                                  "conversation over (they answer; role human_agent)")
    replayed: bool = False


class MemoryOut(BaseModel):
    id: str
    category: str
    key: str
    value: str
    created_at: datetime
    updated_at: datetime


class MemoryList(BaseModel):
    scope: str
    memories: list[MemoryOut]


class DeletedOut(BaseModel):
    deleted: int


class TicketOut(BaseModel):
    id: str
    session_id: str | None
    user_id: str
    subject: str
    body: str
    priority: str
    status: str
    created_at: datetime
    updated_at: datetime


class TicketList(BaseModel):
    tickets: list[TicketOut]


class PublicBusinessOut(BaseModel):
    slug: str
    name: str


class ToolOut(BaseModel):
    name: str
    roles: list[str]
    description: str


class AgentSettingsOut(BaseModel):
    id: str
    name: str
    instructions: dict[str, str]
    greeting: dict[str, str]
    default_voice: str | None
    defaults: dict[str, dict[str, str]]
    tools: list[str]  # enabled tools; empty: every tool of each role
    available_tools: list[ToolOut]


# Owner-written role texts: bounded, and templates only in the narrow sense of
# voxa.persona.texts (``{name}``, ``{business}``, ``{{``/``}}``); anything else is a 422.
GREETING_MAX_CHARS = 500
INSTRUCTIONS_MAX_CHARS = 4000
Role = BusinessRoleName
Greeting = Annotated[str, Field(max_length=GREETING_MAX_CHARS), AfterValidator(texts.check)]
Instructions = Annotated[
    str, Field(max_length=INSTRUCTIONS_MAX_CHARS), AfterValidator(texts.check)
]


class AgentSettingsPatch(Strict):
    """Per-role texts (empty string restores the default) and the default voice."""

    instructions: dict[Role, Instructions] | None = None
    greeting: dict[Role, Greeting] | None = None
    default_voice: str | None = Field(default=None, max_length=64)
    # The enabled tools by name ([] restores the default: every tool of each role).
    tools: list[Annotated[str, Field(max_length=64)]] | None = Field(default=None, max_length=50)


class TicketPatch(Strict):
    status: TicketStatusName


class ConfigPatch(SessionConfigPatch):
    pass


class ConfigOut(BaseModel):
    session_id: str
    config: dict[str, Any]


class VoiceOut(BaseModel):
    id: str
    name: str
    engine: str
    language: str  # BCP 47, or "mul": speaks any language it is given
    source: str  # "local" (offline engines) or the provider ("openai")
    available: bool  # spoken on this deployment (VOXA_TTS)


class HourCount(BaseModel):
    hour: int
    sessions: int


class StatsOut(BaseModel):
    total_sessions: int
    active_sessions: int
    total_messages: int
    avg_messages_per_session: float
    sessions_by_role: dict[str, int]
    sessions_by_hour: list[HourCount]
    busiest_hours: list[HourCount]


Origin = Annotated[str, Field(min_length=1, max_length=MAX_ORIGIN_CHARS),
                   AfterValidator(parse_origin)]


class BusinessSettingsOut(BaseModel):
    allowed_origins: list[str] = Field(
        description="Site origins (http(s)://host[:port]) allowed to embed the chat widget; "
                    "empty: the widget is refused everywhere.")


class BusinessSettingsPatch(Strict):
    allowed_origins: list[Origin] | None = Field(default=None, max_length=MAX_ORIGINS)


class LimitsPatch(Strict):
    """Per-business limit overrides to set (``null`` restores the default)."""

    limits: dict[str, str | int | None] = Field(max_length=32)

    @field_validator("limits")
    @classmethod
    def _known(cls, v: dict[str, str | int | None]) -> dict[str, str | int | None]:
        return validate_overrides(v)


class LimitsOut(BaseModel):
    business: str
    overrides: dict[str, Any]
    effective: dict[str, Any]


class KnowledgeIn(Strict):
    """An FAQ entry (``question`` + ``answer``) or a document (``title`` +
    ``content``; a PDF's content is base64). The text limit is the operator's
    ``knowledge_max_document_chars``."""

    kind: DocumentKindName
    title: str | None = Field(default=None, min_length=1, max_length=200)
    content: str | None = Field(default=None, min_length=1, max_length=1_000_000)
    question: str | None = Field(default=None, min_length=1, max_length=1_000)
    answer: str | None = Field(default=None, min_length=1, max_length=10_000)


class KnowledgeOut(BaseModel):
    id: str
    title: str
    kind: str
    source: str
    passages: int
    created_at: datetime
    updated_at: datetime


class KnowledgeSummary(BaseModel):
    id: str
    title: str
    kind: str
    created_at: datetime
    updated_at: datetime


class KnowledgeList(BaseModel):
    documents: list[KnowledgeSummary]


class SearchHitOut(BaseModel):
    kind: str  # message | summary | ticket
    id: str
    session_id: str | None
    text: str
    created_at: datetime


class SearchOut(BaseModel):
    hits: list[SearchHitOut]
    next_cursor: str | None
