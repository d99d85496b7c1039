"""One conversation pipeline for every channel: a text turn (``turns.py``) and
a voice turn (``voice/turn_hooks.py``) both go through it.

For each turn it admits (turn limits, a place in the model's line), keeps the
user's words, extracts memories from them, builds what the model sees (role
instructions, the memory brief, the business's knowledge, the running summary
and the newest messages — loaded from the database, so both channels see the
same window), routes and runs tools, asks the model (within a bound), and
persists the reply, then folds old messages into the summary when due.

A model that fails or stalls never leaves the user without an answer: the turn
gets a short fallback line, the failure is logged and counted
(``voxa_turn_fallbacks_total``) and the conversation goes on.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from livekit.agents import llm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voxa.agent.assistant import VoxaAssistant, memory_brief
from voxa.agent.context_window import (
    chat_context,
    fold_due,
    load_window,
    maybe_summarize,
)
from voxa.agent.extract import extract_memories
from voxa.agent.fallback import model_failed_line
from voxa.agent.generation import Generated, OnDelta, generate
from voxa.agent.routed import finish, prepare
from voxa.context import session_scope
from voxa.domain import SessionStatus
from voxa.errors import Busy, Gone, UpstreamError
from voxa.knowledge.retrieval import knowledge_for_turn
from voxa.limits import catalog
from voxa.limits.admission import admit_turn, business_overrides
from voxa.limits.model_line import ModelSlot
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.sessions.summary import ExtractiveSummarizer, Summarizer
from voxa.storage.models import AgentMessage, AgentSession
from voxa.storage.repos import memories as memories_repo
from voxa.storage.repos import messages as messages_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.tracing import traced

log = get_logger(__name__)

MEMORIES_PER_TURN = 8
FALLBACK_MODEL = "fallback"  # ``model_used`` of a reply no model wrote


@dataclass(frozen=True, slots=True)
class Accepted:
    message: AgentMessage
    reply: AgentMessage | None  # set when a retry finds its turn already answered
    fence: int = 0  # the turn's number; its reply is stored only while current


class TurnPipeline:
    """Runs the turns of every session of this process, whatever the channel."""

    def __init__(self, rt: Runtime, model: llm.LLM[Any], *,
                 summarizer: Summarizer | None = None) -> None:
        self.rt = rt
        self.llm = model
        self.summarizer = summarizer or ExtractiveSummarizer()

    @property
    def model_name(self) -> str:
        return self.llm.model

    # -- admission ----------------------------------------------------------
    async def admit(self, row: AgentSession) -> dict[str, Any]:
        """The turn limits (429), before anything of the turn is written; returns
        the business's limit overrides (for :meth:`model_slot`)."""
        async with self.rt.db() as db:
            overrides = await business_overrides(db, row.business_id)
        await admit_turn(self.rt.limiter, row, overrides)
        return overrides

    async def model_slot(self, row: AgentSession,
                         overrides: dict[str, Any] | None = None) -> ModelSlot:
        """A place in the model's shared line (503 when full)."""
        if overrides is None:
            async with self.rt.db() as db:
                overrides = await business_overrides(db, row.business_id)
        tenant = row.business_id or f"general:{row.user_id}"
        per_tenant = catalog.count(self.rt.settings, "model_slots_per_business", overrides)
        return await self.rt.model_line.acquire(tenant, per_tenant=per_tenant)

    # -- the user's words ---------------------------------------------------
    @traced("voxa.turn.accept")
    async def accept(self, row: AgentSession, text: str, cmid: str | None = None) -> Accepted:
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
                        return Accepted(existing, reply)
                    # Its earlier attempt failed or its process died: answer it now.
                    fence = await sessions_repo.open_turn(db, row.session_id, scope=scope,
                                                          messages=0)
                    if fence is None:
                        raise Gone("the session has ended; start a new one",
                                   code="session_ended")
                    await db.commit()
                    return Accepted(existing, None, fence)
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
                return await self.accept(row, text, cmid)
            return Accepted(message, None, fence)

    async def learn(self, row: AgentSession, text: str) -> None:
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

    # -- the reply ----------------------------------------------------------
    async def answer(self, assistant: VoxaAssistant, row: AgentSession, message: AgentMessage,
                     *, channel: str, on_delta: OnDelta | None = None,
                     started: float | None = None, model_bound: float | None = None,
                     fence: int | None = None) -> tuple[AgentMessage, Generated]:
        """Learn from ``message``, generate the reply (or the fallback line) and
        persist it. ``model_bound`` (seconds) bounds the model's part of the turn."""
        started = time.perf_counter() if started is None else started
        await self.learn(row, message.content)
        with session_scope(assistant.persona.ctx):
            chat_ctx = await self.context(assistant, row, message.content)
            generated = await self._generate_or_fallback(
                assistant, chat_ctx, row, message.content, on_delta, channel, model_bound)
            latency_ms = int((time.perf_counter() - started) * 1000)
            reply = await self.persist_reply(row, message, generated, latency_ms, fence=fence)
            self._observe(channel, generated, latency_ms)
        return reply, generated

    async def context(self, assistant: VoxaAssistant, row: AgentSession, text: str
                      ) -> llm.ChatContext:
        """What the model sees for this turn, the same in every channel."""
        ctx = assistant.persona.ctx
        async with self.rt.db() as db:
            window = await load_window(db, row, size=self.rt.settings.conversation_window)
            memories = await memories_repo.list_memories(
                db, scope=Scope.user(ctx.user_id, ctx.business_id), limit=MEMORIES_PER_TURN)
        knowledge = await knowledge_for_turn(self.rt, row, text)
        system = [assistant.persona.instructions]
        if memories:
            system.append(memory_brief(memories))
        if knowledge:
            system.append(knowledge)
        return chat_context(system, window)

    async def _generate_or_fallback(self, assistant: VoxaAssistant, chat_ctx: llm.ChatContext,
                                    row: AgentSession, text: str, on_delta: OnDelta | None,
                                    channel: str, bound: float | None) -> Generated:
        out = Generated()
        try:
            await asyncio.wait_for(self._routed(assistant, chat_ctx, row, text, on_delta, out),
                                   bound)
            return out
        except TimeoutError:
            stage = "model_timeout"
            log.warning("turn_fallback", channel=channel, stage=stage, bound_s=bound)
        except UpstreamError as exc:
            stage = "model"
            log.warning("turn_fallback", channel=channel, stage=stage, error=exc.message)
        # Tools that already ran keep their effects and their record.
        line = model_failed_line(assistant)
        if on_delta is not None:
            await on_delta(("\n" if out.text else "") + line)
        out.text, out.fallback = line, stage
        self.rt.metrics.turn_fallbacks.labels(channel=channel, stage=stage).inc()
        return out

    async def _routed(self, assistant: VoxaAssistant, chat_ctx: llm.ChatContext,
                      row: AgentSession, text: str, on_delta: OnDelta | None,
                      out: Generated) -> None:
        """Routing before generation (``routed.py``): a refusal is the reply; decided
        tools run first and the model only phrases their result."""
        prepared = await prepare(assistant, chat_ctx, text, row.session_id)
        if prepared.decision.refusal is not None:
            if on_delta is not None:
                await on_delta(prepared.decision.refusal)
            out.text = prepared.decision.refusal
            return
        out.tool_messages.extend(prepared.tool_messages)
        await generate(self.llm, assistant, prepared.chat_ctx, row, on_delta, out,
                       tools=prepared.tools)
        out.text = finish(assistant, prepared, out.text, text)

    @traced("voxa.turn.persist")
    async def persist_reply(self, row: AgentSession, message: AgentMessage | None,
                            generated: Generated, latency_ms: int | None, *,
                            fence: int | None = None) -> AgentMessage:
        """The reply (and the turn's tool records), then the summary fold when due.
        ``message`` is None for a line that answers no turn (a greeting)."""
        reply = AgentMessage(
            session_id=row.session_id, role="assistant", content=generated.text,
            reply_to_id=message.id if message is not None else None,
            tokens_used=(generated.prompt_tokens + generated.completion_tokens) or None,
            latency_ms=latency_ms,
            model_used=FALLBACK_MODEL if generated.fallback else self.model_name,
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
                if fence is not None:
                    await self._refuse_stale_reply(row, fence)
                raise Gone("the session ended while the assistant was replying",
                           code="session_ended")
            await db.commit()
            await self._fold(db, row, count)
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

    async def _fold(self, db: Any, row: AgentSession, count: int) -> None:
        s = self.rt.settings
        if not fold_due(row, count, trim_at=s.summary_trim_at):
            return
        fresh = await sessions_repo.get(db, row.session_id, scope=Scope.owning(row))
        if fresh is not None and await maybe_summarize(
                db, fresh, self.summarizer, window=s.conversation_window,
                trim_at=s.summary_trim_at):
            await db.commit()
            fresh = await sessions_repo.get(db, row.session_id, scope=Scope.owning(row))
        if fresh is not None:
            # A long-lived holder of ``row`` (a voice job) sees the new summary
            # on its next turn without reloading the session.
            row.context_data = fresh.context_data

    def _observe(self, channel: str, generated: Generated, latency_ms: int) -> None:
        m = self.rt.metrics
        m.turn_latency.labels(channel=channel, model=self.model_name).observe(latency_ms / 1000)
        if generated.prompt_tokens:
            m.tokens.labels(model=self.model_name, kind="prompt").inc(generated.prompt_tokens)
        if generated.completion_tokens:
            m.tokens.labels(model=self.model_name, kind="completion").inc(
                generated.completion_tokens)
        log.info("turn_completed", channel=channel, latency_ms=latency_ms, model=self.model_name,
                 tools=len(generated.tool_messages), fallback=generated.fallback,
                 tokens=generated.prompt_tokens + generated.completion_tokens)
