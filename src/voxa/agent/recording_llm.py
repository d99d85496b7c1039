"""A scripted model that keeps every prompt it is shown, with the session it
was shown for: the witness for isolation at the model's prompt (tests and
``voxa bench isolation``). The echo model repeats only the last user message,
so another session's name, memory or summary in a prompt would pass unseen;
this one lets a check read the whole prompt. It subclasses the real interface
(through :class:`ScriptedLLM`); nothing is mocked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, llm
from livekit.agents.types import NOT_GIVEN, NotGivenOr

from voxa.agent.scripted_llm import Script, ScriptedLLM, command_script
from voxa.context import SessionContext, maybe_current_session


@dataclass(frozen=True, slots=True)
class RecordedPrompt:
    """One call of the model: whose session it ran for (None if no session was
    bound, which is itself a defect), the system text and everything shown."""

    session: SessionContext | None
    system: str
    text: str

    @property
    def session_id(self) -> str | None:
        return self.session.session_id if self.session is not None else None


def _item_text(item: Any) -> str:
    if isinstance(item, llm.ChatMessage):
        return item.text_content or ""
    if isinstance(item, llm.FunctionCall):
        return f"{item.name} {item.arguments}"
    if isinstance(item, llm.FunctionCallOutput):
        return item.output
    return ""


def prompt_text(chat_ctx: llm.ChatContext) -> tuple[str, str]:
    """(system text, whole prompt text) of a chat context, tool calls and outputs included."""
    system = "\n".join(_item_text(i) for i in chat_ctx.items
                       if isinstance(i, llm.ChatMessage) and i.role in ("system", "developer"))
    return system, "\n".join(_item_text(i) for i in chat_ctx.items)


class RecordingLLM(ScriptedLLM):
    def __init__(self, script: Script = command_script, *, model: str = "recording",
                 delay: float = 0.0) -> None:
        super().__init__(script, model=model, delay=delay)
        self.prompts: list[RecordedPrompt] = []

    def chat(self, *, chat_ctx: llm.ChatContext, tools: list[llm.Tool] | None = None,
             conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
             parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
             tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
             extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN) -> llm.LLMStream:
        system, text = prompt_text(chat_ctx)
        self.prompts.append(RecordedPrompt(maybe_current_session(), system, text))
        return super().chat(chat_ctx=chat_ctx, tools=tools, conn_options=conn_options,
                            parallel_tool_calls=parallel_tool_calls, tool_choice=tool_choice,
                            extra_kwargs=extra_kwargs)

    def prompts_for(self, session_id: str) -> list[RecordedPrompt]:
        return [p for p in self.prompts if p.session_id == session_id]


def crossings(prompts: list[RecordedPrompt], allowed: dict[str, set[str]],
              markers: set[str]) -> list[tuple[str | None, str]]:
    """Every (session id, marker) where a prompt shows a marker its session may
    not see. ``allowed`` maps a session id to the markers it may see; a prompt
    with no session, or of a session not in ``allowed``, may see none."""
    out: list[tuple[str | None, str]] = []
    for p in prompts:
        ok = allowed.get(p.session_id or "", set())
        out.extend((p.session_id, m) for m in markers - ok if m in p.text)
    return out
