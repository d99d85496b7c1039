"""Offline Whisper (``voxa.speech.whisper``: tiny.en for English, base for the
other languages) run by the worker's inference process. Batch recognition; the
worker wraps it with the VAD (``stt.StreamAdapter``) to make it streaming."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import numpy as np
from livekit import rtc
from livekit.agents import APIConnectOptions, stt, utils
from livekit.agents.types import NOT_GIVEN, NotGivenOr

from voxa.speech.whisper import model_for
from voxa.voice.inference import WHISPER_METHOD, infer, whisper_request

if TYPE_CHECKING:
    from livekit.agents.ipc.inference_executor import InferenceExecutor

WHISPER_RATE = 16_000


def to_whisper_input(frame: rtc.AudioFrame) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Mono float32 at 16 kHz from an int16 frame of any rate and channel count."""
    pcm = np.frombuffer(frame.data, dtype=np.int16).astype(np.float32) / 32768.0
    if frame.num_channels > 1:
        pcm = pcm.reshape(-1, frame.num_channels).mean(axis=1)
    if frame.sample_rate != WHISPER_RATE and len(pcm):
        n = int(len(pcm) * WHISPER_RATE / frame.sample_rate)
        pcm = np.interp(np.linspace(0, len(pcm) - 1, n), np.arange(len(pcm)), pcm)
    return pcm.astype(np.float32)


class WhisperSTT(stt.STT[Any]):
    """Whisper, run by the worker's inference process (``voice.inference``)."""

    def __init__(self, executor: InferenceExecutor, *, language: str = "en") -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._executor = executor
        self._language = language

    @property
    def model(self) -> str:
        return model_for(self._language)

    @property
    def provider(self) -> str:
        return "faster-whisper"

    async def _recognize_impl(self, buffer: utils.AudioBuffer, *,
                              language: NotGivenOr[str] = NOT_GIVEN,
                              conn_options: APIConnectOptions) -> stt.SpeechEvent:
        frame = rtc.combine_audio_frames(buffer)
        request = whisper_request(self._language, to_whisper_input(frame))
        out = await infer(self._executor, WHISPER_METHOD, request, conn_options=conn_options)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT, request_id=uuid.uuid4().hex,
            alternatives=[stt.SpeechData(language=self._language,  # type: ignore[arg-type]
                                         text=out.decode())],
        )
