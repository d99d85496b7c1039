"""Text turns: one turn through the session's assistant — same
instructions and tools as voice — with the reply persisted before it is
acknowledged.

Turns of one session are serialized across every API process (a lease in
the shared store, a bounded waiting line, a fencing number in the database —
see ``turn_lease``); a ``client_message_id`` (unique per session in the
database) makes a retry return the stored result instead of running twice.
While a voice agent answers the session, text turns are refused: one
conversation has one answering agent. The LLM is shared by all sessions; no
database connection is held while the model thinks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from livekit.agents import APIError, llm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voxa.agent.assistant import VoxaAssistant, build_assistant, memory_brief
from voxa.agent.context_window import (
    Window,
    fold_due,
    load_window,
    maybe_summarize,
)
from voxa.agent.extract import extract_memories
from voxa.agent.models import MODEL_CONN_OPTIONS
from voxa.agent.routed import finish, prepare
from voxa.agent.turn_lease import TurnLeases
from voxa.context import session_scope
from voxa.domain import SessionStatus
from voxa.errors import Busy, Conflict, Gone, UpstreamError
from voxa.knowledge.retrieval import knowledge_for_turn
from voxa.kv.keys import agent_pid_key, business_version_key
from voxa.limits import catalog
from voxa.limits.admission import admit_turn, business_overrides
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.sessions.lifecycle import expire_if_overdue
from voxa.sessions.summary import ExtractiveSummarizer, Summarizer
from voxa.sessions.takeover import taken_over
from voxa.storage.models import AgentMessage, AgentSession, Memory
from voxa.storage.repos import memories as memories_repo
from voxa.storage.repos import messages as messages_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.tracing import session_attributes, start_wait_span, traced

log = get_logger(__name__)

MAX_TOOL_ROUNDS = 4
OnDelta = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class TurnResult:
    message: AgentMessage
    reply: AgentMessage | None  # None while a person has taken the conversation over
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class _Accepted:
    message: AgentMessage
    reply: AgentMessage | None  # set when a retry finds its turn already answered
    fence: int = 0  # the turn's number; its reply is stored only while current


@dataclass(frozen=True, slots=True)
class _CachedAssistant:
    expires: float
    version: str  # the business's settings version it was built with
    assistant: VoxaAssistant


@dataclass
class _Generated:
    text: str
    tool_messages: list[AgentMessage]
    prompt_tokens: int = 0
    completion_tokens: int = 0


class TextTurns:
    """Runs text turns for every session of this process."""

    def __init__(self, rt: Runtime, model: llm.LLM[Any], *,
                 summarizer: Summarizer | None = None) -> None:
        self.rt = rt
        self.llm = model
        self.summarizer = summarizer or ExtractiveSummarizer()
        self._leases = TurnLeases(rt.store)
        self._background: set[asyncio.Task[TurnResult]] = set()
        # Each session's assistant (persona + tools bound to it), kept while the
        # conversation is active: building one costs two queries and tool set-up.
        # Its business's settings version is checked every turn, so an owner's
        # change reaches the next turn on every replica.
        self._assistants: OrderedDict[str, _CachedAssistant] = OrderedDict()

    @property
    def model_name(self) -> str:
        return self.llm.model

    # -- serialization ------------------------------------------------------
    def _turn_slot(self, session_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        s = self.rt.settings
        return self._leases.hold(session_id, queue_limit=s.turn_queue_limit,
                                 wait_seconds=s.turn_wait_seconds,
                                 lease_seconds=s.turn_lease_seconds)

    async def _refuse_if_voice_agent(self, row: AgentSession) -> None:
        """A voice agent answering this session would not see a text turn
        answered beside it: refuse instead of answering in parallel."""
        if await self.rt.store.exists(agent_pid_key(row.session_id)):
            raise Conflict("a voice agent is answering this session; speak to it, or "
                           "send text once the call has ended", code="voice_agent_active")

    # -- public entry points ------------------------------------------------
    @traced("voxa.turn", lambda self, row, *_, **__: {
        **session_attributes(row.session_id, row.business_id, row.role), "channel": "text"})
    async def send(self, row: AgentSession, text: str, client_message_id: str | None = None,
                   on_delta: OnDelta | None = None,
                   on_accepted: Callable[[AgentMessage], Awaitable[None]] | None = None,
                   ) -> TurnResult:
        """One turn. The turn limits (429) come first; a place in the model's
        line (503) is taken once the session's previous turn is done (turns
        waiting on their own session are bounded by ``turn_queue_limit``);
        both before anything of the turn is written."""
        async with self.rt.db() as db:
            overrides = await business_overrides(db, row.business_id)
        await admit_turn(self.rt.limiter, row, overrides)
        await self._refuse_if_voice_agent(row)
        tenant = row.business_id or f"general:{row.user_id}"
        per_tenant = catalog.count(self.rt.settings, "model_slots_per_business", overrides)
        waiting = start_wait_span("voxa.turn.lock_wait")  # the session's and the model's lines
        try:
            async with self._turn_slot(row.session_id):
                slot = await self.rt.model_line.acquire(tenant, per_tenant=per_tenant)
                waiting.end()
                try:
                    return await self._turn(row, text, client_message_id, on_delta,
                                            on_accepted)
                finally:
                    await slot.release()
        finally:
            if waiting.is_recording():  # refused while waiting: the wait still ends
                waiting.end()

    def send_in_background(self, row: AgentSession, text: str, client_message_id: str | None,
                           on_delta: OnDelta, on_accepted: Callable[[AgentMessage],
                                                                    Awaitable[None]],
                           ) -> asyncio.Task[TurnResult]:
        """A turn that finishes (and persists) even if the streaming client leaves."""
        task = asyncio.create_task(self.send(row, text, client_message_id, on_delta,
                                             on_accepted), name=f"turn-{row.session_id}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def aclose(self) -> None:
        for task in list(self._background):
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 30)

    ASSISTANT_TTL = 300.0
    MAX_ASSISTANTS = 2_000

    async def _settings_version(self, row: AgentSession) -> str:
        if row.business_id is None:
            return ""
        return await self.rt.store.get(business_version_key(row.business_id)) or ""

    async def _assistant(self, row: AgentSession) -> VoxaAssistant:
        now = time.monotonic()
        version = await self._settings_version(row)
        hit = self._assistants.get(row.session_id)
        if hit is not None and hit.expires > now and hit.version == version:
            self._assistants.move_to_end(row.session_id)
            return hit.assistant
        assistant = await build_assistant(self.rt, row)
        self._assistants[row.session_id] = _CachedAssistant(now + self.ASSISTANT_TTL, version,
                                                            assistant)
        while len(self._assistants) > self.MAX_ASSISTANTS:
            self._assistants.popitem(last=False)
        return assistant

    def forget_session(self, session_id: str) -> None:
        self._assistants.pop(session_id, None)

    # -- one turn -----------------------------------------------------------
    @traced("voxa.turn.accept")
    async def _accept(self, row: AgentSession, text: str, cmid: str | None) -> _Accepted:
        """Persist the user message and take the turn's fencing number (or find
        the message, and its reply, a retry refers to)."""
        scope = Scope.user(row.user_id, row.business_id)
        async with self.rt.db() as db:
            if cmid:
                existing = await messages_repo.by_client_id(db, row.session_id, cmid, scope=scope)
                if existing is not None:
                    reply = (await db.execute(select(AgentMessage).where(
                        AgentMessage.session_id == row.session_id,
                        AgentMessage.reply_to_id == existing.id,
                        AgentMessage.role == "assistant"))).scalar_one_or_none()
                    if reply is not None:
                        return _Accepted(existing, reply)
                    # Its earlier attempt failed or its process died: answer it now.
                    fence = await sessions_repo.open_turn(db, row.session_id, scope=scope,
                                                          messages=0)
                    if fence is None:
                        raise Gone("the session has ended; start a new one",
                                   code="session_ended")
                    await db.commit()
                    return _Accepted(existing, None, fence)
            message = AgentMessage(session_id=row.session_id, role="user", content=text,
                                   client_message_id=cmid)
            db.add(message)
            fence = await sessions_repo.open_turn(db, row.session_id, scope=scope)
            if fence is None:
                await db.rollback()
                raise Gone("the session has ended; start a new one", code="session_ended")
            try:
                await db.commit()
            except IntegrityError:  # the same id committed by a turn whose lease lapsed
                await db.rollback()
                return await self._accept(row, text, cmid)
            return _Accepted(message, None, fence)

    async def _learn(self, row: AgentSession, text: str) -> None:
        facts = extract_memories(text)
        if not facts:
            return
        scope = Scope.user(row.user_id, row.business_id)
        async with self.rt.db() as db:
            for f in facts:
                await memories_repo.remember(db, scope=scope, category=f.category, key=f.key,
                                             value=f.value)
            await db.commit()
        log.info("memories_extracted", count=len(facts))

    async def _turn(self, row: AgentSession, text: str, cmid: str | None,
                    on_delta: OnDelta | None,
                    on_accepted: Callable[[AgentMessage], Awaitable[None]] | None,
                    ) -> TurnResult:
        started = time.perf_counter()
        row = await expire_if_overdue(self.rt, row)
        if row.status != SessionStatus.active:
            raise Gone("the session has ended; start a new one", code="session_ended")
        accepted = await self._accept(row, text, cmid)
        message = accepted.message
        if accepted.reply is not None:
            return TurnResult(message, accepted.reply, replayed=True)
        if on_accepted is not None:
            await on_accepted(message)
        if taken_over(row.context_data):
            # A person answers; the message waits in the transcript for them.
            return TurnResult(message, None)
        await self._learn(row, message.content)

        assistant = await self._assistant(row)
        with session_scope(assistant.persona.ctx):
            ctx = assistant.persona.ctx
            async with self.rt.db() as db:
                # The row the access check loaded: its summary is at most one
                # turn old, which the window (newest 20 messages) covers.
                window = await load_window(db, row)
                memories = await memories_repo.list_memories(
                    db, scope=Scope.user(ctx.user_id, ctx.business_id), limit=8)
            knowledge = await knowledge_for_turn(self.rt, row, message.content)
            chat_ctx = self._chat_context(assistant, window, memories, knowledge)
            generated = await self._routed(assistant, chat_ctx, row, message.content, on_delta)
            latency_ms = int((time.perf_counter() - started) * 1000)
            reply = await self._persist_reply(row, message, generated, latency_ms,
                                              fence=accepted.fence)
            self._after_turn(row, generated, latency_ms)
        return TurnResult(message, reply)

    @staticmethod
    def _chat_context(assistant: VoxaAssistant, window: Window, memories: list[Memory],
                      knowledge: str | None = None) -> llm.ChatContext:
        system = [assistant.persona.instructions]
        if memories:
            system.append(memory_brief(memories))
        if knowledge:
            system.append(knowledge)
        if window.summary:
            system.append("Earlier in this conversation the user said: " + window.summary)
        ctx = llm.ChatContext.empty()
        ctx.add_message(role="system", content="\n\n".join(system))
        for m in window.messages:
            if m.role == "human_agent":  # the business's person spoke for the assistant
                ctx.add_message(role="assistant",
                                content="(a person from the business wrote) " + m.content)
            else:
                ctx.add_message(role=m.role, content=m.content)  # type: ignore[arg-type]
        return ctx

    async def _routed(self, assistant: VoxaAssistant, chat_ctx: llm.ChatContext,
                      row: AgentSession, text: str, on_delta: OnDelta | None) -> _Generated:
        """Routing before generation (``routed.py``): a refusal is the reply; decided
        tools run first and the model only phrases their result."""
        prepared = await prepare(assistant, chat_ctx, text, row.session_id)
        if prepared.decision.refusal is not None:
            if on_delta is not None:
                await on_delta(prepared.decision.refusal)
            return _Generated(text=prepared.decision.refusal, tool_messages=[])
        generated = await self._generate(assistant, prepared.chat_ctx, row, on_delta,
                                         tools=prepared.tools)
        generated.tool_messages[:0] = prepared.tool_messages
        generated.text = finish(assistant, prepared, generated.text, text)
        return generated

    @traced("voxa.turn.model_call", lambda self, *_, **__: {"model": self.model_name})
    async def _generate(self, assistant: VoxaAssistant, chat_ctx: llm.ChatContext,
                        row: AgentSession, on_delta: OnDelta | None,
                        tools: list[llm.Tool] | None = None) -> _Generated:
        if tools is None:
            tools = [t for t in assistant.tools if isinstance(t, llm.Tool)]
        tool_ctx = llm.ToolContext(tools)
        out = _Generated(text="", tool_messages=[])
        for _round in range(MAX_TOOL_ROUNDS + 1):
            parts: list[str] = []
            calls: list[llm.FunctionToolCall] = []
            usage_seen = False
            try:
                stream = self.llm.chat(chat_ctx=chat_ctx, tools=tools,
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
        return out

    @traced("voxa.turn.persist")
    async def _persist_reply(self, row: AgentSession, message: AgentMessage,
                             generated: _Generated, latency_ms: int, *, fence: int
                             ) -> AgentMessage:
        reply = AgentMessage(
            session_id=row.session_id, role="assistant", content=generated.text,
            reply_to_id=message.id,
            tokens_used=(generated.prompt_tokens + generated.completion_tokens) or None,
            latency_ms=latency_ms, model_used=self.model_name,
        )
        scope = Scope.user(row.user_id, row.business_id)
        async with self.rt.db() as db:
            for tm in generated.tool_messages:
                db.add(tm)
            db.add(reply)
            added = 1 + len(generated.tool_messages)
            count = await sessions_repo.add_messages(db, row.session_id, added, scope=scope,
                                                     fence=fence)
            if count is None:
                await db.rollback()
                await self._refuse_stale_reply(row, fence)
                raise Gone("the session ended while the assistant was replying",
                           code="session_ended")
            await db.commit()
            if fold_due(row, count):
                fresh = await sessions_repo.get(db, row.session_id, scope=Scope.owning(row))
                if fresh is not None and await maybe_summarize(db, fresh, self.summarizer):
                    await db.commit()
        return reply

    async def _refuse_stale_reply(self, row: AgentSession, fence: int) -> None:
        """This turn's lease lapsed (a stall) and a later turn took the session:
        its reply is dropped, never stored beside the later one's."""
        async with self.rt.db() as db:
            current = await sessions_repo.get(db, row.session_id, scope=Scope.owning(row))
        if current is not None and current.status == SessionStatus.active \
                and current.turn_seq != fence:
            log.warning("turn_fenced_out", fence=fence, current=current.turn_seq)
            raise Busy("this message took too long and was superseded; retry it",
                       code="session_busy", retry_after=1)

    def _after_turn(self, row: AgentSession, generated: _Generated, latency_ms: int) -> None:
        m = self.rt.metrics
        m.turn_latency.labels(channel="text", model=self.model_name).observe(latency_ms / 1000)
        if generated.prompt_tokens:
            m.tokens.labels(model=self.model_name, kind="prompt").inc(generated.prompt_tokens)
        if generated.completion_tokens:
            m.tokens.labels(model=self.model_name, kind="completion").inc(
                generated.completion_tokens)
        log.info("turn_completed", channel="text", latency_ms=latency_ms, model=self.model_name,
                 tools=len(generated.tool_messages),
                 tokens=generated.prompt_tokens + generated.completion_tokens)
