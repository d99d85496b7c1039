"""VOXA_STT / VOXA_TTS: parsed and checked at startup, one builder per
provider; the voice catalog's sources and languages; the reply language."""

from __future__ import annotations

from pathlib import Path

import pytest
from livekit.agents import stt
from livekit.agents.ipc.inference_executor import InferenceExecutor
from livekit.plugins import openai, silero
from pydantic import ValidationError

from voxa.errors import InvalidInput, Unsupported
from voxa.infra.voices import VoiceCatalog
from voxa.persona.prompts import language_instruction
from voxa.sessions.config import resolve_config
from voxa.settings import Settings, build_settings
from voxa.speech import spec
from voxa.voice.speech_providers import (
    STT_BUILDERS,
    TTS_BUILDERS,
    SpeechNeeds,
    build_stt,
    build_tts,
)
from voxa.voice.stt_whisper import WhisperSTT
from voxa.voice.tts_local import PiperTTS


def _settings(tmp_path: Path, **values: object) -> Settings:
    return build_settings(env="test", data_dir=tmp_path, **values)


class IdleExecutor(InferenceExecutor):
    async def do_inference(self, method: str, data: bytes) -> bytes | None:
        raise AssertionError("building a provider sends no request")


def _needs(voice: str = "joe", language: str = "en") -> SpeechNeeds:
    return SpeechNeeds(executor=IdleExecutor(), vad=silero.VAD.load(), language=language,
                       voice=VoiceCatalog().resolve(voice), speaking_rate=1.0)


def test_every_named_provider_has_a_builder() -> None:
    assert set(STT_BUILDERS) == set(spec.STT_PROVIDERS)
    assert set(TTS_BUILDERS) == set(spec.TTS_PROVIDERS)


def test_provider_values_parsed(tmp_path: Path) -> None:
    s = _settings(tmp_path, stt="openai:whisper-1", stt_base_url="http://127.0.0.1:8100/v1",
                  stt_api_key="k")
    assert spec.stt_spec(s) == spec.SpeechSpec("openai", "whisper-1",
                                               "http://127.0.0.1:8100/v1", "k")
    assert spec.tts_spec(s) == spec.SpeechSpec("local", "", None, None)
    with pytest.raises(ValueError, match="VOXA_TTS must be 'local' or 'openai:<model>'"):
        spec.validate(_settings(tmp_path, tts="deepgram:aura"))
    with pytest.raises(ValidationError):
        _settings(tmp_path, stt="whisper")  # neither local nor provider:model


def test_local_builders(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    recognizer = build_stt(s, _needs(language="es"))
    assert isinstance(recognizer, stt.StreamAdapter)
    assert isinstance(recognizer.wrapped_stt, WhisperSTT)
    assert recognizer.wrapped_stt.model == "whisper-base"
    assert isinstance(build_tts(s, _needs()), PiperTTS)


def test_openai_builders_reach_the_configured_server(tmp_path: Path) -> None:
    url = "http://127.0.0.1:8100/v1"
    s = _settings(tmp_path, stt="openai:whisper-1", stt_base_url=url,
                  tts="openai:tts-1", tts_base_url=url)
    recognizer = build_stt(s, _needs(language="de-DE"))
    assert isinstance(recognizer, stt.StreamAdapter)
    inner = recognizer.wrapped_stt
    assert isinstance(inner, openai.STT) and inner.model == "whisper-1"
    assert str(inner._client.base_url).rstrip("/") == url
    assert inner._opts.languages == ["de"]
    voice = build_tts(s, _needs("lucia"))
    # a compatible server speaks the local catalog by id; OpenAI its own names
    assert isinstance(voice, openai.TTS) and voice._opts.voice == "lucia"
    assert voice._opts.response_format == "pcm"
    official = build_tts(_settings(tmp_path, tts="openai:gpt-4o-mini-tts"), _needs("openai-coral"))
    assert isinstance(official, openai.TTS) and official._opts.voice == "coral"


def test_voice_sources_follow_the_tts_provider(tmp_path: Path) -> None:
    assert spec.tts_voice_sources(_settings(tmp_path)) == {"local"}
    assert spec.tts_voice_sources(_settings(tmp_path, tts="openai:tts-1")) == {"openai"}
    assert spec.tts_voice_sources(_settings(
        tmp_path, tts="openai:tts-1", tts_base_url="http://speech.internal:8100/v1")) == {"local"}


def test_catalog_availability_and_languages() -> None:
    catalog = VoiceCatalog(sources=frozenset({"local"}), languages=frozenset({"en"}))
    assert catalog.default.id == "joe"
    with pytest.raises(Unsupported) as refused:
        catalog.check_language("es")
    assert refused.value.status == 422 and "supported languages: en" in refused.value.message
    with pytest.raises(Unsupported, match="openai"):
        catalog.resolve_available("openai-alloy")
    with pytest.raises(InvalidInput) as unknown:
        catalog.resolve_available("nobody")
    assert unknown.value.code == "unknown_voice"
    openai_only = VoiceCatalog(sources=frozenset({"openai"}))
    assert openai_only.default.id == "openai-alloy"
    assert openai_only.for_language("de", openai_only.default).id == "openai-alloy"


def test_session_voice_follows_its_language() -> None:
    catalog = VoiceCatalog(languages=frozenset({"en", "es", "de"}))
    business = {"voice": "joe"}
    assert resolve_config(business, {}, catalog).voice == "joe"
    assert resolve_config(business, {"language": "es"}, catalog).voice == "lucia"
    assert resolve_config(business, {"language": "de"}, catalog).voice == "hanna"
    # a voice the caller names is kept, whatever the language
    assert resolve_config(business, {"language": "es", "voice": "max"}, catalog).voice == "max"
    with pytest.raises(Unsupported, match="supported languages: de, en, es"):
        resolve_config(business, {"language": "fr"}, catalog)


def test_reply_language_instruction() -> None:
    assert language_instruction("en-US") == ""
    assert "Always reply in Spanish" in language_instruction("es")
    assert "'xh'" in language_instruction("xh")
