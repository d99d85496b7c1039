"""An owner takes a customer's text conversation over and hands it back.

While taken over (``context_data["handoff"]["state"] == "taken"``) the
customer's messages are stored but the assistant does not answer them; the
owner's messages are stored with the role ``human_agent``. Handing back lets
the assistant answer again, with the whole transcript (the owner's messages
included) in its context.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from voxa.domain import Channel, SessionStatus
from voxa.errors import Conflict, Gone, InvalidInput, Unavailable
from voxa.infra.livekit_tokens import LiveKitTokens, owner_call_identity
from voxa.sessions.handoff import HANDOFF_KEY, handoff_event
from voxa.storage.models import AgentMessage, AgentSession
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.session_state import SessionState
from voxa.storage.types import utcnow

HUMAN_AGENT = "human_agent"


def taken_over(context_data: dict[str, Any] | None) -> bool:
    value = (context_data or {}).get(HANDOFF_KEY)
    return isinstance(value, dict) and value.get("state") == "taken"


def _live(row: AgentSession) -> str:
    if row.status != SessionStatus.active:
        raise Gone("the session has ended", code="session_ended")
    if row.role != "customer" or row.business_id is None:
        raise InvalidInput("only a business's customer conversations can be taken over",
                           code="handoff_not_available")
    return row.business_id


def _now() -> str:
    return utcnow().isoformat().replace("+00:00", "Z")


async def _stored_state(db: AsyncSession, row: AgentSession, scope: Scope) -> dict[str, Any]:
    fresh = await sessions_repo.get(db, row.session_id, scope=scope)
    value = SessionState.of(fresh.context_data if fresh else None).handoff
    return value if isinstance(value, dict) else {}


async def take_over(db: AsyncSession, row: AgentSession, *, owner_id: str) -> dict[str, Any]:
    """Mark the session taken by ``owner_id`` and queue ``handoff.taken``
    (once: taking a session the same owner already holds changes nothing)."""
    business_id = _live(row)
    scope = Scope.business(business_id)
    current = await _stored_state(db, row, scope)
    if current.get("state") == "taken" and current.get("by") == owner_id:
        return current
    state = {"state": "taken", "by": owner_id, "taken_at": _now()}
    await sessions_repo.merge_context(db, row.session_id, {HANDOFF_KEY: state}, scope=scope)
    await handoff_event(db, row, "handoff.taken", state)
    return state


async def hand_back(db: AsyncSession, row: AgentSession) -> dict[str, Any]:
    """The assistant answers again; ``handoff.returned`` is queued when the
    session was taken (handing back a waiting one only clears the request)."""
    business_id = _live(row)
    scope = Scope.business(business_id)
    current = await _stored_state(db, row, scope)
    if current.get("state") == "returned":
        return current
    state = {"state": "returned", "returned_at": _now()}
    await sessions_repo.merge_context(db, row.session_id, {HANDOFF_KEY: state}, scope=scope)
    if current.get("state") == "taken":
        await handoff_event(db, row, "handoff.returned", state)
    return state


async def owner_message(db: AsyncSession, row: AgentSession, text: str) -> AgentMessage:
    business_id = _live(row)
    if not taken_over(row.context_data):
        raise Conflict("take the conversation over before writing in it", code="not_taken_over")
    message = AgentMessage(session_id=row.session_id, role=HUMAN_AGENT, content=text)
    db.add(message)
    if await sessions_repo.add_messages(db, row.session_id, 1,
                                        scope=Scope.business(business_id)) is None:
        await db.rollback()
        raise Gone("the session has ended", code="session_ended")
    return message


@dataclass(frozen=True, slots=True)
class CallGrant:
    url: str
    token: str
    room_name: str
    identity: str
    expires_in: int


def call_grant(livekit: LiveKitTokens | None, row: AgentSession, *, owner_id: str,
               ttl_seconds: int) -> CallGrant:
    """The owner's LiveKit token for this session's room only. Joining is the
    takeover: the voice job marks the session taken while the owner is in the
    room and returned when the owner leaves."""
    _live(row)
    if row.channel == Channel.text:
        raise InvalidInput("a text conversation has no call to join; take it over instead",
                           code="not_a_call")
    if livekit is None:
        raise Unavailable("voice is not enabled on this server", code="voice_unavailable")
    token = livekit.mint_owner_call(room_name=row.room_name, session_id=row.session_id,
                                    user_id=owner_id, display_name="Owner",
                                    ttl=timedelta(seconds=ttl_seconds))
    return CallGrant(url=livekit.url, token=token, room_name=row.room_name,
                     identity=owner_call_identity(owner_id), expires_in=ttl_seconds)
