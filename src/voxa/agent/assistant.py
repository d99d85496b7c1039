"""The one agent definition for both channels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livekit.agents import Agent, llm

from voxa.agent.tools import build_tools, tool_names, tools_brief
from voxa.context import SessionContext
from voxa.persona.prompts import greeting_for, instructions_for, language_instruction
from voxa.runtime import Runtime
from voxa.storage.models import AgentSession, Memory
from voxa.storage.repos import businesses as businesses_repo
from voxa.storage.session_state import SessionState


@dataclass(frozen=True, slots=True)
class Persona:
    """Who the assistant is for one session: role texts resolved for this user."""

    ctx: SessionContext
    business_name: str | None
    instructions: str
    greeting: str
    tools: tuple[str, ...] = ()  # the agent's enabled tools (empty: all of the role's)


class VoxaAssistant(Agent):
    """Role-aware assistant; tools are bound to its session. What the model sees
    for a turn (memories, knowledge, summary) is built by the conversation
    pipeline (``pipeline.py``) for both channels; a call's assistant
    (``voice/turn_hooks.py``) hands its turns to that pipeline."""

    def __init__(self, persona: Persona, tools: list[llm.FunctionTool[..., Any]], *,
                 chat_ctx: llm.ChatContext | None = None, greet: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(instructions=persona.instructions, tools=list(tools),
                         chat_ctx=chat_ctx, **kwargs)
        self.persona = persona
        self.greet_on_enter = greet

    async def on_enter(self) -> None:
        # Only in a voice AgentSession: greet once, never again on resume.
        if self.greet_on_enter:
            self.session.say(self.persona.greeting, add_to_chat_ctx=True)


async def load_persona(rt: Runtime, row: AgentSession) -> Persona:
    async with rt.db() as db:
        agent = await businesses_repo.get_agent(db, row.agent_id, business_id=row.business_id)
        business = (await businesses_repo.get_by_id(db, row.business_id)
                    if row.business_id else None)
    name = SessionState.of(row.context_data).name
    business_name = business.name if business else None
    enabled = tuple(t for t in (agent.tools if agent else None) or () if t in tool_names(row.role))
    ctx = SessionContext(session_id=row.session_id, role=row.role, business_id=row.business_id,
                         business_slug=business.slug if business else None, user_id=row.user_id,
                         user_name=name)
    return Persona(
        ctx=ctx, business_name=business_name,
        instructions=instructions_for(row.role, name=name, business=business_name,
                                      overrides=agent.instructions if agent else None)
        + language_instruction(str((row.config or {}).get("language") or "en"))
        + "\n\n" + tools_brief(row.role, enabled),
        greeting=greeting_for(row.role, name=name, business=business_name,
                              overrides=agent.greeting if agent else None),
        tools=enabled,
    )


def memory_brief(memories: list[Memory]) -> str:
    """The user's own memories, as a line of the system prompt."""
    return "Known about the user: " + "; ".join(f"{m.key} = {m.value}" for m in memories)


async def build_assistant(rt: Runtime, row: AgentSession, **kwargs: Any) -> VoxaAssistant:
    persona = await load_persona(rt, row)
    return VoxaAssistant(persona, build_tools(rt, persona.ctx, persona.tools), **kwargs)

