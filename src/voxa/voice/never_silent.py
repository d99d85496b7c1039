"""A call is never silent: when recognition or speech fails (after
livekit-agents' own retries), the caller hears a short line, the failure is
logged and counted (``voxa_turn_fallbacks_total{channel="voice"}``) and the
call goes on. A model that fails is the pipeline's to answer
(``agent/pipeline.py``); this covers the speech side.

Speech that fails cannot speak its own apology: the line for a failed
synthesis is rendered once while speech works (after the greeting) and kept
as audio for the rest of the call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, tts

from voxa.agent.fallback import NOT_HEARD
from voxa.logs import get_logger
from voxa.metrics import Metrics

log = get_logger(__name__)

SPEECH_FAILED = "Sorry, I'm having trouble speaking. Please try again in a moment."
_STAGES = {"stt_error": "stt", "tts_error": "tts"}


class SpeechFallback:
    def __init__(self, session: AgentSession[None], metrics: Metrics) -> None:
        self._session = session
        self._metrics = metrics
        self._clip: list[rtc.AudioFrame] = []
        self._task: asyncio.Task[None] | None = None

    def on_error(self, ev: Any) -> None:
        """``AgentSession``'s ``error`` event."""
        error = ev.error
        stage = _STAGES.get(getattr(error, "type", ""))
        if stage is None:
            return
        log.warning("voice_stage_failed", stage=stage, recoverable=error.recoverable,
                    error=repr(getattr(error, "error", error)))
        if error.recoverable:  # livekit-agents retries it
            return
        self._metrics.turn_fallbacks.labels(channel="voice", stage=stage).inc()
        if stage == "stt":
            self._session.say(NOT_HEARD, add_to_chat_ctx=False)
        elif self._clip:
            self._session.say(SPEECH_FAILED, audio=self._frames(), add_to_chat_ctx=False)
        else:
            log.warning("speech_fallback_unavailable", reason="no rendered line yet")

    async def _frames(self) -> AsyncIterator[rtc.AudioFrame]:
        for frame in self._clip:
            yield frame

    @property
    def prepared(self) -> bool:
        return self._task is not None

    def prepare(self, engine: tts.TTS[Any]) -> None:
        """Render the failed-speech line in the background."""
        self._task = asyncio.create_task(self._render(engine), name="speech-fallback")

    async def _render(self, engine: tts.TTS[Any]) -> None:
        frames: list[rtc.AudioFrame] = []
        try:
            async with engine.synthesize(SPEECH_FAILED) as stream:
                async for audio in stream:
                    frames.append(audio.frame)
        except Exception as exc:  # the call works without it; the next failure says so
            log.warning("speech_fallback_not_rendered", error=repr(exc))
            return
        self._clip = frames

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
