"""A customer asks for a person (the chat page's "Talk to a person" button)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from voxa.api.deps import HeldSession, RuntimeDep
from voxa.sessions import handoff, handoff_feed

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


class HandoffOut(BaseModel):
    state: str = Field(description="waiting: the business has been told; closed: outside "
                                   "the business's opening hours, nobody was asked")
    requested_at: str | None = None
    via: str | None = Field(default=None, description="button | assistant")
    first_request: bool = Field(description="false when the session was already waiting "
                                            "(or nobody was asked)")
    message: str | None = Field(default=None, description="closed: what to tell the customer "
                                                          "(next opening, a ticket instead)")


@router.post("/{session_id}/handoff", response_model=HandoffOut, status_code=202)
async def request_handoff(row: HeldSession, rt: RuntimeDep) -> HandoffOut:
    """Mark the session waiting for a person and tell the business (``handoff.requested``)."""
    async with rt.db() as db:
        closed = await handoff.closed_answer(db, row.business_id, rt.clock())
        if closed is not None:
            return HandoffOut(state="closed", first_request=False, message=closed)
        state, first = await handoff.request_handoff(db, row, via="button")
        await db.commit()
    if first and row.business_id is not None:  # after the commit: streams re-read the database
        await handoff_feed.bump(rt.store, row.business_id)
    return HandoffOut(state=state["state"], requested_at=state["requested_at"], via=state["via"],
                      first_request=first)
