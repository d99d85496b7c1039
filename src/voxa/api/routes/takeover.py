"""An owner takes a customer's text conversation over, writes in it and hands
it back (owners of the session's business only; everyone else gets 404)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from voxa.api.deps import CurrentPrincipal, ReadableSession, RuntimeDep
from voxa.api.schemas import MessageIn, MessageOut
from voxa.auth.principal import AccountPrincipal
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


@router.post("/{session_id}/takeover", response_model=TakeoverOut)
async def take_over(row: ReadableSession, principal: CurrentPrincipal,
                    rt: RuntimeDep) -> TakeoverOut:
    """The owner takes the conversation over: the assistant stops answering."""
    owner = _owner(row, principal)
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
    text = body.text.strip()
    if not text or len(text) > rt.settings.max_text_chars:
        raise InvalidInput("text is empty or too long", code="invalid_text")
    async with rt.db() as db:
        message = await takeover.owner_message(db, row, text)
        await db.commit()
        await db.refresh(message)
    return MessageOut.model_validate(message, from_attributes=True)
