"""Who is waiting for a person, for the business's owner."""

from __future__ import annotations

from voxa.agent.tools.registry import ToolEnv, tool
from voxa.domain import Role
from voxa.sessions import handoff_feed


@tool(roles=[Role.owner],
      guidance="Use waiting_customers when the owner asks who is waiting for a person.")
async def waiting_customers(env: ToolEnv) -> str:
    """The business's customers waiting for a person right now, oldest request first."""
    env.guard()
    scope = env.business
    assert scope.business_id is not None
    waiting = await handoff_feed.waiting_sessions(env.rt, scope.business_id)
    if not waiting:
        return "Nobody is waiting for a person."
    lines = [f"{w['channel']} session {w['session_id']} waiting since "
             f"{w['requested_at']}" + (f": {w['reason']}" if w["reason"] else "")
             for w in waiting]
    return f"{len(waiting)} waiting:\n" + "\n".join(lines)
