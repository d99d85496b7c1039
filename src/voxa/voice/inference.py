"""Speech models held once per worker, in livekit-agents' inference process.

Each job process used to load Whisper and Piper itself: ≈390 MiB unique memory
per voice session. The worker's single inference process (the one livekit-agents
starts for its own end-of-turn model) now holds them; jobs send it audio or text
over the IPC channel and keep only the VAD and the room I/O. The inference
process answers one request at a time, in arrival order (livekit-agents 1.8
awaits each before reading the next), so each request gets the whole model.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
from livekit.agents import APIConnectOptions, APIError, APITimeoutError
from livekit.agents.inference_runner import _InferenceRunner

from voxa.procs import lower_priority

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from livekit.agents.ipc.inference_executor import InferenceExecutor
    from piper import PiperVoice

WHISPER_METHOD = "voxa_whisper"
PIPER_METHOD = "voxa_piper"


# A Whisper request: the language code, space-padded to 8 bytes, then float32
# mono 16 kHz samples (8 keeps the samples aligned).
_LANG_BYTES = 8


def whisper_request(language: str, audio: np.ndarray[Any, np.dtype[np.float32]]) -> bytes:
    return language.encode().ljust(_LANG_BYTES)[:_LANG_BYTES] + audio.tobytes()


class WhisperRunner(_InferenceRunner):
    """A ``whisper_request`` in, UTF-8 text out. English goes to tiny.en, loaded
    at start; other languages to the multilingual base model, loaded on the
    first such request (most deployments never need its memory)."""

    INFERENCE_METHOD = WHISPER_METHOD

    def initialize(self) -> None:
        from voxa.speech.whisper import ENGLISH_MODEL, load_whisper

        lower_priority()  # before the model's threads exist: they inherit it
        # Two cores per utterance (measured here: 0.5 s instead of 0.8 s for a
        # 2.5 s question); requests arrive one at a time.
        self._models: dict[str, WhisperModel] = {ENGLISH_MODEL: load_whisper(threads=2)}

    def _model(self, name: str) -> WhisperModel:
        from voxa.settings import build_settings
        from voxa.speech.whisper import load_whisper

        model = self._models.get(name)
        if model is None:
            cache = build_settings().data_dir / "models"
            model = self._models[name] = load_whisper(name, threads=2, cache=cache)
        return model

    def run(self, data: bytes) -> bytes:
        from voxa.speech.whisper import model_for, transcribe

        language = data[:_LANG_BYTES].decode().strip() or "en"
        audio = np.frombuffer(data, dtype=np.float32, offset=_LANG_BYTES)
        return transcribe(self._model(model_for(language)), audio, language=language).encode()


class PiperRunner(_InferenceRunner):
    """JSON ``{"voice", "text", "rate", "variation"?}`` in, int16 PCM at the
    voice's rate out (``variation``: see ``speech.piper.piper_pcm``)."""

    INFERENCE_METHOD = PIPER_METHOD

    def initialize(self) -> None:
        from voxa.speech.piper import load_piper, piper_voices

        lower_priority()
        self._lock = threading.Lock()
        # Installed voices are few and small: load them all now so no session
        # waits seconds for its first sentence.
        self._voices: dict[str, PiperVoice] = {name: load_piper(name) for name in piper_voices()}

    def _voice(self, name: str) -> PiperVoice:
        from voxa.speech.piper import load_piper

        with self._lock:
            voice = self._voices.get(name)
            if voice is None:
                voice = self._voices[name] = load_piper(name)
            return voice

    def run(self, data: bytes) -> bytes:
        from voxa.speech.piper import piper_pcm

        req: dict[str, Any] = json.loads(data)
        variation = req.get("variation")
        return piper_pcm(self._voice(str(req["voice"])), str(req["text"]),
                         speaking_rate=float(req.get("rate", 1.0)),
                         variation=None if variation is None else float(variation))


async def infer(executor: InferenceExecutor, method: str, data: bytes, *,
                conn_options: APIConnectOptions) -> bytes:
    """One request to the inference process, as an upstream call: a failure or
    a process that stopped answering is a retryable ``APIError``, never a hang."""
    try:
        out = await asyncio.wait_for(executor.do_inference(method, data),
                                     conn_options.timeout)
    except TimeoutError as e:
        raise APITimeoutError(f"{method}: no answer from the inference process") from e
    except RuntimeError as e:  # how the executor reports the runner's exception
        raise APIError(f"{method}: {e}", retryable=True) from e
    return out or b""


# Speech requests queue at the one inference process while every session's job
# competes for the same cores: a request is slow, not lost. A short timeout
# would re-send it behind itself and grow the queue; this one only catches an
# inference process that died.
SPEECH_CONN_OPTIONS = APIConnectOptions(max_retry=1, retry_interval=0.5, timeout=60)


def register_runners() -> None:
    """Make the worker start its inference process with the speech models.

    livekit-agents keeps runners in a class-level registry read when a worker
    is built; registering twice (several workers in one process) is a no-op.
    """
    for runner in (WhisperRunner, PiperRunner):
        if runner.INFERENCE_METHOD not in _InferenceRunner.registered_runners:
            _InferenceRunner.register_runner(runner)
