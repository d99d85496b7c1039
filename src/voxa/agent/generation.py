"""One reply from the model: streamed, with the model's own tool calls run
(up to ``MAX_TOOL_ROUNDS``) and recorded as tool messages. A provider failure
is an ``UpstreamError``; the pipeline turns it into the fallback line."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import APIError, llm

from voxa.agent.assistant import VoxaAssistant
from voxa.agent.models import MODEL_CONN_OPTIONS
from voxa.errors import UpstreamError
from voxa.logs import get_logger
from voxa.storage.models import AgentMessage, AgentSession
from voxa.tracing import traced

log = get_logger(__name__)

MAX_TOOL_ROUNDS = 4
# Receives the reply's text as the model streams it (the SSE endpoint).
OnDelta = Callable[[str], Awaitable[None]]


@dataclass
class Generated:
    text: str = ""
    tool_messages: list[AgentMessage] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    fallback: str | None = None  # the failed stage, when the text is a fallback line


@traced("voxa.turn.model_call", lambda model, *_, **__: {"model": model.model})
async def generate(model: llm.LLM[Any], assistant: VoxaAssistant, chat_ctx: llm.ChatContext,
                    row: AgentSession, on_delta: OnDelta | None, out: Generated,
                    tools: list[llm.Tool] | None = None) -> None:
    if tools is None:
        tools = [t for t in assistant.tools if isinstance(t, llm.Tool)]
    tool_ctx = llm.ToolContext(tools)
    for _round in range(MAX_TOOL_ROUNDS + 1):
        parts: list[str] = []
        calls: list[llm.FunctionToolCall] = []
        usage_seen = False
        try:
            stream = model.chat(chat_ctx=chat_ctx, tools=tools,
                                conn_options=MODEL_CONN_OPTIONS)
            async with stream:
                async for chunk in stream:
                    if chunk.usage is not None:
                        usage_seen = True
                        out.prompt_tokens += chunk.usage.prompt_tokens
                        out.completion_tokens += chunk.usage.completion_tokens
                    if chunk.delta is None:
                        continue
                    if chunk.delta.content:
                        parts.append(chunk.delta.content)
                        if on_delta is not None:
                            await on_delta(chunk.delta.content)
                    calls.extend(chunk.delta.tool_calls)
        except APIError as exc:
            log.warning("llm_failed", error=str(exc), retryable=exc.retryable)
            raise UpstreamError(f"the model provider failed: {exc.message}",
                                retryable=exc.retryable, code="llm_unavailable") from exc
        except Exception as exc:
            log.exception("llm_failed")
            raise UpstreamError("the model provider failed", retryable=False,
                                code="llm_failed") from exc
        out.text += "".join(parts)
        if not usage_seen:
            # Some servers (llama.cpp) report no usage when streaming; they
            # stream one token per chunk, so count those.
            out.completion_tokens += len(parts)
        if not calls:
            break
        for call in calls:
            result = await llm.execute_function_call(call, tool_ctx)
            chat_ctx.insert(result.fnc_call)
            chat_ctx.insert(result.fnc_call_out)
            out.tool_messages.append(AgentMessage(
                session_id=row.session_id, role="tool",
                content=json.dumps({"name": call.name, "arguments": call.arguments,
                                    "output": result.fnc_call_out.output,
                                    "is_error": result.fnc_call_out.is_error})[:8000]))
            log.info("tool_called", tool=call.name, is_error=result.fnc_call_out.is_error)
    out.text = out.text.strip() or "Sorry, I have no answer to that."
