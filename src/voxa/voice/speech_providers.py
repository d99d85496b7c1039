"""The job's recognizer and voice, built from ``VOXA_STT`` / ``VOXA_TTS``.

One builder per provider (``STT_BUILDERS``, ``TTS_BUILDERS``): another LiveKit
plugin is one more entry here and its name in ``speech.spec``. Batch
recognizers are made streaming with the VAD, as the local one always was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livekit.agents import stt, tts

from voxa.infra.voices import Voice
from voxa.settings import Settings
from voxa.speech.spec import SpeechSpec, stt_spec, tts_spec
from voxa.voice.stt_whisper import WhisperSTT
from voxa.voice.tts_local import tts_for

if TYPE_CHECKING:
    from livekit.agents.ipc.inference_executor import InferenceExecutor
    from livekit.agents.vad import VAD

# OpenAI's raw PCM: 24 kHz int16 mono, what its plugin expects (no decoding).
OPENAI_TTS_FORMAT = "pcm"


@dataclass(frozen=True, slots=True)
class SpeechNeeds:
    """What a job knows that a builder may use."""

    executor: InferenceExecutor
    vad: VAD
    language: str
    voice: Voice
    speaking_rate: float


def _key(spec: SpeechSpec) -> str:
    # A compatible server may want no key; the OpenAI client insists on one.
    return spec.api_key or "not-needed"


def _local_stt(spec: SpeechSpec, needs: SpeechNeeds) -> stt.STT[Any]:
    return WhisperSTT(needs.executor, language=needs.language)


def _openai_stt(spec: SpeechSpec, needs: SpeechNeeds) -> stt.STT[Any]:
    from livekit.plugins import openai

    kwargs: dict[str, Any] = {"model": spec.model, "language": needs.language.split("-")[0],
                              "api_key": _key(spec), "use_realtime": False}
    if spec.base_url:
        kwargs["base_url"] = spec.base_url
    return openai.STT(**kwargs)  # type: ignore[no-any-return]


def _local_tts(spec: SpeechSpec, needs: SpeechNeeds) -> tts.TTS[Any]:
    return tts_for(needs.voice, speaking_rate=needs.speaking_rate, executor=needs.executor)


def _openai_tts(spec: SpeechSpec, needs: SpeechNeeds) -> tts.TTS[Any]:
    from livekit.plugins import openai

    # OpenAI names its voices itself; a compatible server (`voxa speech`)
    # speaks the local catalog voices by their catalog id.
    voice = needs.voice.engine_voice if needs.voice.source == "openai" else needs.voice.id
    kwargs: dict[str, Any] = {"model": spec.model, "voice": voice, "speed": needs.speaking_rate,
                              "api_key": _key(spec), "response_format": OPENAI_TTS_FORMAT}
    if spec.base_url:
        kwargs["base_url"] = spec.base_url
    return openai.TTS(**kwargs)  # type: ignore[no-any-return]


STT_BUILDERS: dict[str, Callable[[SpeechSpec, SpeechNeeds], stt.STT[Any]]] = {
    "local": _local_stt, "openai": _openai_stt}
TTS_BUILDERS: dict[str, Callable[[SpeechSpec, SpeechNeeds], tts.TTS[Any]]] = {
    "local": _local_tts, "openai": _openai_tts}


def build_stt(settings: Settings, needs: SpeechNeeds) -> stt.STT[Any]:
    spec = stt_spec(settings)
    recognizer = STT_BUILDERS[spec.provider](spec, needs)
    if recognizer.capabilities.streaming:
        return recognizer
    return stt.StreamAdapter(stt=recognizer, vad=needs.vad)


def build_tts(settings: Settings, needs: SpeechNeeds) -> tts.TTS[Any]:
    spec = tts_spec(settings)
    return TTS_BUILDERS[spec.provider](spec, needs)
