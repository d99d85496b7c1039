"""A voice turn through the conversation pipeline (``agent/pipeline.py``), the
same path a text turn takes.

LiveKit's ``on_user_turn_completed`` keeps the caller's words (and refuses a
turn over the limits); the agent's ``llm_node`` then asks the pipeline for the
reply — memories, the memory brief, knowledge, summary, routing and tools,
the model within ``voice_model_timeout_seconds`` — streams the model's text to
speech as it comes, and the pipeline persists the finished reply. Room text (``lk.chat``) skips
``on_user_turn_completed`` in livekit-agents, so ``llm_node`` keeps those
words itself. Whatever fails, the caller hears a line: the fallback the
pipeline chose, or a notice that the turn was refused.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any

from livekit import rtc
from livekit.agents import Agent, ModelSettings, StopResponse, llm

from voxa.agent.assistant import Persona, VoxaAssistant
from voxa.agent.fallback import MODEL_FAILED, TOO_MANY
from voxa.agent.generation import Generated, OnDelta
from voxa.agent.pipeline import TurnPipeline
from voxa.errors import Gone, RateLimited, Unavailable
from voxa.logs import get_logger
from voxa.storage.models import AgentMessage
from voxa.storage.models import AgentSession as SessionRow
from voxa.voice.recording import TurnRecorder

log = get_logger(__name__)

_KEPT_REPLIES = 8


def _last_user_text(chat_ctx: llm.ChatContext) -> str:
    for item in reversed(chat_ctx.items):
        if isinstance(item, llm.ChatMessage) and item.role == "user":
            return (item.text_content or "").strip()
    return ""


class VoiceTurns:
    """One voice session's turns: what the hooks of :class:`VoiceAssistant` do."""

    def __init__(self, pipeline: TurnPipeline, row: SessionRow, *, model_bound: float,
                 recorder: TurnRecorder) -> None:
        self.pipeline = pipeline
        self.row = row
        self.model_bound = model_bound
        self._heard: AgentMessage | None = None
        self._refused: str | None = None  # the user text a limit refused
        # the text of replies spoken for the pipeline: their chat items are not
        # persisted again
        self._replies: deque[str] = deque(maxlen=_KEPT_REPLIES)
        self._spoken_reply: int | None = None  # the reply whose audio comes next
        self.session_ended = asyncio.Event()
        self.recorder = recorder
        self._turns: set[asyncio.Task[str]] = set()

    async def user_turn(self, new_message: llm.ChatMessage) -> None:
        text = (new_message.text_content or "").strip()
        if not text:
            return
        self._heard = await self._accept(text)
        if self._heard is not None:
            self.recorder.keep_user_turn(self._heard.id)

    async def _accept(self, text: str) -> AgentMessage | None:
        try:
            await self.pipeline.admit(self.row)
        except RateLimited:
            log.warning("voice_turn_refused", reason="turn limit")
            self._refused = text
            return None
        try:
            message = (await self.pipeline.accept(self.row, text)).message
        except Gone:
            self.session_ended.set()
            return None
        return message

    async def speak(self, assistant: VoxaAssistant, chat_ctx: llm.ChatContext
                    ) -> AsyncIterator[str]:
        """The reply's text for speech, streamed as the model writes it (the
        pipeline persists the finished reply, as for a text turn's stream).
        The turn runs to the end even if the caller cuts it off, so the reply
        is stored either way."""
        deltas: asyncio.Queue[str] = asyncio.Queue()

        async def on_delta(delta: str) -> None:
            deltas.put_nowait(delta)

        turn = asyncio.create_task(self.reply(assistant, chat_ctx, on_delta),
                                   name=f"voice-turn-{self.row.session_id}")
        self._turns.add(turn)
        turn.add_done_callback(self._turns.discard)
        spoken: list[str] = []
        waiter: asyncio.Future[str] | None = None
        try:
            while not (turn.done() and deltas.empty()):
                if deltas.empty():
                    waiter = asyncio.ensure_future(deltas.get())
                    await asyncio.wait({turn, waiter}, return_when=asyncio.FIRST_COMPLETED)
                    if not waiter.done():  # the turn ended; what it sent is still queued
                        waiter.cancel()
                        continue
                    piece = waiter.result()
                else:
                    piece = deltas.get_nowait()
                spoken.append(piece)
                yield piece
            final = self._final(turn)
            if not spoken and final:
                spoken.append(final)
                yield final
        finally:
            if waiter is not None and not waiter.done():
                waiter.cancel()
            if spoken:
                self._replies.append(" ".join("".join(spoken).split()))

    def _final(self, turn: asyncio.Task[str]) -> str:
        """The finished turn's text; a turn that broke still gets a line."""
        try:
            return turn.result()
        except Exception:
            log.exception("turn_fallback", channel="voice", stage="model")
            self.pipeline.rt.metrics.turn_fallbacks.labels(channel="voice", stage="model").inc()
            return MODEL_FAILED

    async def reply(self, assistant: VoxaAssistant, chat_ctx: llm.ChatContext,
                    on_delta: OnDelta | None = None) -> str:
        """The reply to speak (persisted), or "" for none; ``on_delta`` gets the
        model's text as it streams (lines that are not the model's are only returned)."""
        text = _last_user_text(chat_ctx)
        message, self._heard = self._heard, None
        if self._refused is not None and self._refused == text:
            return self._refuse()
        if message is None or message.content != text:
            if not text:
                return ""
            message = await self._accept(text)  # room text: no user-turn hook ran
            if message is None:
                return self._refuse() if self._refused is not None else ""
        try:
            slot = await self.pipeline.model_slot(self.row)
        except Unavailable:
            return await self._busy(message)
        try:
            reply, _ = await self.pipeline.answer(assistant, self.row, message, channel="voice",
                                                  on_delta=on_delta,
                                                  model_bound=self.model_bound)
        except Gone:
            self.session_ended.set()
            return ""
        finally:
            await slot.release()
        self._said(reply)
        return reply.content

    def _refuse(self) -> str:
        """A turn over the limits: a notice, kept out of the transcript like the
        refused words themselves."""
        self._refused = None
        self.pipeline.rt.metrics.turn_fallbacks.labels(channel="voice", stage="busy").inc()
        return TOO_MANY

    def _said(self, reply: AgentMessage) -> None:
        self._spoken_reply = reply.id

    def take_spoken_reply(self) -> int | None:
        """The persisted reply that the speech now ending said (once)."""
        mid, self._spoken_reply = self._spoken_reply, None
        return mid

    async def _busy(self, message: AgentMessage) -> str:
        log.warning("turn_fallback", channel="voice", stage="busy")
        self.pipeline.rt.metrics.turn_fallbacks.labels(channel="voice", stage="busy").inc()
        generated = Generated(text=TOO_MANY, fallback="busy")
        try:
            reply = await self.pipeline.persist_reply(self.row, message, generated, None)
        except Gone:
            self.session_ended.set()
            return ""
        self._said(reply)
        return reply.content

    def persisted(self, role: str, text: str) -> bool:
        """Whether a chat item of the session was already persisted by the
        pipeline (the caller's turns; the replies, perhaps cut short by an
        interruption), or kept out of the transcript (refusal notices)."""
        if role == "user":
            return True
        text = " ".join(text.split())
        for i, said in enumerate(self._replies):
            if text and said.startswith(text):
                # replies before it were cut off before a word was spoken
                for _ in range(i + 1):
                    self._replies.popleft()
                return True
        return False


# True when a person answers this turn instead of the assistant (the
# business's owner is in the call); the hook has kept the turn itself.
TurnHold = Callable[[llm.ChatMessage], Awaitable[bool]]


class VoiceAssistant(VoxaAssistant):
    """The session's assistant in a call: its turns go through the pipeline."""

    def __init__(self, persona: Persona, tools: list[llm.FunctionTool[..., Any]],
                 turns: VoiceTurns, **kwargs: Any) -> None:
        super().__init__(persona, tools, **kwargs)
        self.turns = turns
        self.hold: TurnHold | None = None

    async def on_user_turn_completed(self, turn_ctx: llm.ChatContext,
                                     new_message: llm.ChatMessage) -> None:
        if self.hold is not None and await self.hold(new_message):
            raise StopResponse
        await self.turns.user_turn(new_message)

    def llm_node(self, chat_ctx: llm.ChatContext, tools: list[llm.Tool],
                 model_settings: ModelSettings) -> AsyncIterable[str]:
        del tools, model_settings  # the pipeline's own: the same as a text turn's
        return self.turns.speak(self, chat_ctx)

    def stt_node(self, audio: AsyncIterable[rtc.AudioFrame], model_settings: ModelSettings
                 ) -> Any:
        return Agent.default.stt_node(self, self.turns.recorder.heard(audio), model_settings)

    def tts_node(self, text: AsyncIterable[str], model_settings: ModelSettings) -> Any:
        return self.turns.recorder.spoken(Agent.default.tts_node(self, text, model_settings),
                                          self.turns.take_spoken_reply)

