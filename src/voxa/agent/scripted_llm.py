"""A deterministic ``livekit.agents.llm.LLM`` that follows a script: for tests
(tool calls on demand) and for benchmarks (an instant model, so what is
measured is the platform). It subclasses the real interface; nothing is mocked."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import (
    DEFAULT_API_CONNECT_OPTIONS,
    APIConnectionError,
    APIConnectOptions,
    llm,
)
from livekit.agents.types import NOT_GIVEN, NotGivenOr


@dataclass
class ScriptedReply:
    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail: Exception | None = None
    delay: float = 0.0  # seconds before the first word (a stalled provider)


Script = Callable[[llm.ChatContext, list[llm.Tool]], ScriptedReply]


def last_user_text(chat_ctx: llm.ChatContext) -> str:
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.ChatMessage) and item.role == "user":
            return item.text_content or ""
    return ""


def has_tool_output(chat_ctx: llm.ChatContext) -> bool:
    """True once the current turn already ran a tool (the reply comes next)."""
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.FunctionCallOutput):
            return True
        if isinstance(item, llm.ChatMessage) and item.role == "user":
            return False
    return False


def tool_outputs(chat_ctx: llm.ChatContext) -> list[str]:
    out: list[str] = []
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.FunctionCallOutput):
            out.append(item.output)
        elif isinstance(item, llm.ChatMessage) and item.role == "user":
            break
    return list(reversed(out))


def echo(chat_ctx: llm.ChatContext, tools: list[llm.Tool]) -> ScriptedReply:
    return ScriptedReply(text=f"You said: {last_user_text(chat_ctx)}")


def command_script(chat_ctx: llm.ChatContext, tools: list[llm.Tool]) -> ScriptedReply:
    """Echo, except ``/tool NAME {json}`` calls that tool; once it ran, report
    its output. ``/fail`` makes the provider fail and ``/stall SECONDS`` makes
    it answer that late (faults on demand). Deterministic, for tests and demos."""
    if has_tool_output(chat_ctx):
        return ScriptedReply(text="TOOL: " + " | ".join(tool_outputs(chat_ctx)))
    text = last_user_text(chat_ctx).strip()
    if text == "/fail":
        return ScriptedReply(fail=APIConnectionError("scripted provider failure"))
    if text.startswith("/stall "):
        try:
            return ScriptedReply(text="Sorry for the wait.", delay=float(text[7:]))
        except ValueError:
            return ScriptedReply(text="/stall needs a number of seconds.")
    if text.startswith("/tool "):
        name, _, args = text[6:].partition(" ")
        try:
            parsed = json.loads(args or "{}")
        except ValueError:
            return ScriptedReply(text="Tool arguments must be JSON.")
        return ScriptedReply(tool_calls=[(name, parsed)])
    return echo(chat_ctx, tools)


class ScriptedLLM(llm.LLM[Any]):
    def __init__(self, script: Script = echo, *, model: str = "scripted",
                 delay: float = 0.0) -> None:
        super().__init__()
        self._script = script
        self._model = model
        self.delay = delay
        self.calls = 0

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        return "voxa-scripted"

    def chat(self, *, chat_ctx: llm.ChatContext, tools: list[llm.Tool] | None = None,
             conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
             parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
             tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
             extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN) -> llm.LLMStream:
        self.calls += 1
        reply = self._script(chat_ctx, list(tools or []))
        return _ScriptedStream(self, reply, chat_ctx=chat_ctx, tools=list(tools or []),
                               conn_options=conn_options)


class _ScriptedStream(llm.LLMStream):
    def __init__(self, owner: ScriptedLLM, reply: ScriptedReply, **kwargs: Any) -> None:
        super().__init__(owner, **kwargs)
        self._reply = reply
        self._owner = owner

    async def _run(self) -> None:
        if self._owner.delay or self._reply.delay:
            await asyncio.sleep(self._owner.delay + self._reply.delay)
        if self._reply.fail is not None:
            raise self._reply.fail
        rid = uuid.uuid4().hex
        words = self._reply.text.split(" ") if self._reply.text else []
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            self._event_ch.send_nowait(llm.ChatChunk(
                id=rid, delta=llm.ChoiceDelta(role="assistant", content=piece)))
        if self._reply.tool_calls:
            calls = [llm.FunctionToolCall(name=name, arguments=json.dumps(args),
                                          call_id=f"call_{uuid.uuid4().hex[:10]}")
                     for name, args in self._reply.tool_calls]
            self._event_ch.send_nowait(llm.ChatChunk(
                id=rid, delta=llm.ChoiceDelta(role="assistant", tool_calls=calls)))
        prompt = sum(len((getattr(i, "text_content", None) or "").split())
                     for i in self._chat_ctx.items)
        completion = len(words)
        self._event_ch.send_nowait(llm.ChatChunk(id=rid, usage=llm.CompletionUsage(
            completion_tokens=completion, prompt_tokens=prompt,
            total_tokens=prompt + completion)))
