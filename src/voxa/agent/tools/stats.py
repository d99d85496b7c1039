"""The business's activity, for its owner."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from voxa.agent.tools.registry import ToolEnv, tool
from voxa.domain import Role
from voxa.storage.repos.stats import business_stats as stats_query


@tool(roles=[Role.owner],
      guidance="Summarise activity with business_stats; quote its numbers rather than guessing.")
async def business_stats(env: ToolEnv) -> str:
    """Sessions, active sessions, average messages per session and busiest hours."""

    async def op(db: AsyncSession) -> str:
        stats = await stats_query(db, scope=env.business)
        stats.pop("sessions_by_hour", None)
        return json.dumps(stats)

    return await env.run(op)
