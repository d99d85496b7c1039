"""An owner takes a customer's text conversation over, writes in it and hands
it back, or joins a customer's voice call (owners of the session's business
only; everyone else gets 404)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from voxa.api.deps import CurrentPrincipal, ReadableSession, RuntimeDep
from voxa.api.schemas import MessageIn, MessageOut
from voxa.auth.principal import AccountPrincipal
from voxa.domain import Channel
from voxa.errors import InvalidInput, NotFound
from voxa.sessions import handoff_feed, takeover
from voxa.storage.models import AgentSession

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


class TakeoverOut(BaseModel):
    state: str = Field(description="taken: the assistant is quiet; returned: it answers again")


def _owner(row: AgentSession, principal: CurrentPrincipal) -> AccountPrincipal:
    if not (isinstance(principal, AccountPrincipal) and principal.kind == "owner"
            and row.business_id is not None and principal.business_id == row.business_id):
        raise NotFound("session not found", code="session_not_found")
    return principal


def _text_only(row: AgentSession) -> None:
    # A call is taken over by joining it (the voice job marks it taken while
    # the owner is in the room, returned when the owner leaves): a text
    # takeover would silence the agent with nobody speaking for the business.
    if row.channel == Channel.voice:
        raise InvalidInput("a call is taken over by joining it: POST "
                           f"/v1/sessions/{row.session_id}/join-call", code="join_the_call")


@router.post("/{session_id}/takeover", response_model=TakeoverOut)
async def take_over(row: ReadableSession, principal: CurrentPrincipal,
                    rt: RuntimeDep) -> TakeoverOut:
    """The owner takes the conversation over: the assistant stops answering."""
    owner = _owner(row, principal)
    _text_only(row)
    async with rt.db() as db:
        state = await takeover.take_over(db, row, owner_id=owner.user_id)
        await db.commit()
    assert row.business_id is not None
    await handoff_feed.bump(rt.store, row.business_id)  # it leaves the waiting lists
    return TakeoverOut(state=state["state"])


@router.post("/{session_id}/handback", response_model=TakeoverOut)
async def hand_back(row: ReadableSession, principal: CurrentPrincipal,
                    rt: RuntimeDep) -> TakeoverOut:
    """The assistant answers again, with the whole transcript in its context."""
    _owner(row, principal)
    _text_only(row)
    async with rt.db() as db:
        state = await takeover.hand_back(db, row)
        await db.commit()
    assert row.business_id is not None
    await handoff_feed.bump(rt.store, row.business_id)
    return TakeoverOut(state=state["state"])


@router.post("/{session_id}/owner-messages", response_model=MessageOut, status_code=201)
async def owner_message(body: MessageIn, row: ReadableSession, principal: CurrentPrincipal,
                        rt: RuntimeDep) -> MessageOut:
    """The owner's message to the customer (role ``human_agent``); only while taken over."""
    _owner(row, principal)
    _text_only(row)
    text = body.text.strip()
    if not text or len(text) > rt.settings.max_text_chars:
        raise InvalidInput("text is empty or too long", code="invalid_text")
    async with rt.db() as db:
        message = await takeover.owner_message(db, row, text)
        await db.commit()
        await db.refresh(message)
    return MessageOut.model_validate(message, from_attributes=True)


class CallGrantOut(BaseModel):
    url: str = Field(description="the LiveKit server to connect to")
    token: str = Field(description="a LiveKit token for this session's room only")
    room_name: str
    identity: str = Field(description="the owner's identity in the room (owner-<user id>)")
    expires_in: int = Field(description="seconds the token can be used to connect")


@router.post("/{session_id}/join-call", response_model=CallGrantOut)
async def join_call(row: ReadableSession, principal: CurrentPrincipal,
                    rt: RuntimeDep) -> CallGrantOut:
    """A token for the owner to join the customer's voice call. While the owner
    is in the room the assistant stays silent (the session shows as taken
    over); when the owner leaves, it answers again."""
    owner = _owner(row, principal)
    grant = takeover.call_grant(rt.livekit, row, owner_id=owner.user_id,
                                ttl_seconds=rt.settings.owner_call_token_ttl_seconds)
    return CallGrantOut(url=grant.url, token=grant.token, room_name=grant.room_name,
                        identity=grant.identity, expires_in=grant.expires_in)
