"""A customer asks for a person from the business."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from voxa.agent.tools.registry import ToolEnv, tool
from voxa.domain import Role
from voxa.sessions import handoff, handoff_feed
from voxa.storage.repos import sessions as sessions_repo


@tool(roles=[Role.customer], guidance="When the customer asks for a person, call request_human.")
async def request_human(env: ToolEnv, reason: str = "") -> str:
    """Ask for a person from the business to take over this conversation. Use it
    when the customer asks for a human, a person, an agent or staff.

    Args:
        reason: In a few words, what the customer needs help with.
    """

    async def op(db: AsyncSession) -> str:
        row = await sessions_repo.get(db, env.ctx.session_id, scope=env.mine)
        if row is None:
            return "This conversation cannot be handed to a person."
        closed = await handoff.closed_answer(db, row.business_id, env.rt.clock())
        if closed is not None:
            return closed + " Tell the customer so."
        _state, first = await handoff.request_handoff(db, row, via="assistant", reason=reason)
        return ("The business has been told; a person will join this conversation. "
                "Tell the customer so." if first else
                "A person has already been asked for and will join soon.")

    answer = await env.run(op)
    if env.ctx.business_id is not None:  # after the commit: streams re-read the database
        await handoff_feed.bump(env.rt.store, env.ctx.business_id)
    return answer
