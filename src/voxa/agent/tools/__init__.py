"""The assistant's tools: one module per subject, each tool declared once
(``registry.tool``). Adding a tool is adding a module here (and its test)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from livekit.agents.llm import FunctionTool

from voxa.agent.tools.registry import ToolEnv, ToolSpec, catalog, tool_names, tools_for
from voxa.context import SessionContext
from voxa.runtime import Runtime

__all__ = ["ToolEnv", "ToolSpec", "build_tools", "catalog", "tool_names", "tools_brief",
           "tools_for"]


def build_tools(rt: Runtime, ctx: SessionContext,
                enabled: Collection[str] = ()) -> list[FunctionTool[..., Any]]:
    """The tools the session's role may use (the agent's enabled subset when
    it sets one), bound to that session."""
    env = ToolEnv(rt=rt, ctx=ctx)
    return [spec.bind(env) for spec in tools_for(ctx.role, enabled)]


def tools_brief(role: str, enabled: Collection[str] = ()) -> str:
    """The prompt's description of the role's tools, from their declarations."""
    return " ".join(spec.guidance for spec in tools_for(role, enabled))
