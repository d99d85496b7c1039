"""Durable memories of the session's user, for every role."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from voxa.agent.tools.registry import ToolEnv, tool
from voxa.domain import Role
from voxa.storage.repos import memories as memories_repo

EVERY_ROLE = tuple(Role)


@tool(roles=EVERY_ROLE, guidance="Use remember to keep durable facts and preferences the user "
                                 "tells you.")
async def remember(env: ToolEnv, category: str, key: str, value: str) -> str:
    """Store a durable fact, interest or preference about the user for later conversations.

    Args:
        category: One of FACT, INTEREST, PREFERENCE, PERSONAL, GOAL.
        key: A short name for the memory, such as favorite_color.
        value: What to remember, such as blue.
    """
    if (refusal := await env.over_limit("memories_per_user", "new memories")) is not None:
        return refusal

    async def op(db: AsyncSession) -> str:
        m = await memories_repo.remember(db, scope=env.mine, category=category, key=key,
                                         value=value)
        return f"Remembered {m.key} = {m.value}."

    return await env.run(op)


@tool(roles=EVERY_ROLE, guidance="Use recall to look up what you know about the user "
                                 "before answering questions about them.")
async def recall(env: ToolEnv, query: str) -> str:
    """Look up what you remember about the user.

    Args:
        query: A key such as favorite_color, or a few words describing what to find.
    """

    async def op(db: AsyncSession) -> str:
        found = await memories_repo.recall(db, scope=env.mine, query=query)
        if not found:
            return "Nothing remembered about that."
        return "\n".join(f"{m.key}: {m.value}" for m in found)

    return await env.run(op)
