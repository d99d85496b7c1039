"""``VOXA_STT`` / ``VOXA_TTS``: which speech provider a deployment uses.

``local`` is the offline engines in the worker's inference process;
``<provider>:<model>`` names a LiveKit plugin (today ``openai``, which also
reaches OpenAI-compatible servers such as ``voxa speech``). Parsing is pure so
settings checks, the voice catalog and the worker all agree on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from voxa.settings import Settings

# Providers with a builder in ``voice.speech_providers`` (kept in step by a test).
STT_PROVIDERS = ("local", "openai")
TTS_PROVIDERS = ("local", "openai")


@dataclass(frozen=True, slots=True)
class SpeechSpec:
    provider: str  # "local" | a plugin name
    model: str  # "" for local
    base_url: str | None
    api_key: str | None

    @property
    def official_openai(self) -> bool:
        """OpenAI itself, not a compatible server (which serves other voices)."""
        return self.provider == "openai" and (
            self.base_url is None or urlsplit(self.base_url).hostname == "api.openai.com")


def _parse(kind: str, value: str, known: tuple[str, ...], base_url: str | None,
           api_key: str | None) -> SpeechSpec:
    value = value.strip()
    if value == "local":
        return SpeechSpec("local", "", None, None)
    provider, _, model = value.partition(":")
    if provider not in known or provider == "local" or not model:
        choices = "'local' or " + ", ".join(f"'{p}:<model>'" for p in known if p != "local")
        raise ValueError(f"VOXA_{kind} must be {choices}, not {value!r}")
    return SpeechSpec(provider, model, base_url, api_key)


def stt_spec(settings: Settings) -> SpeechSpec:
    key = settings.stt_api_key.get_secret_value() if settings.stt_api_key else None
    return _parse("STT", settings.stt, STT_PROVIDERS, settings.stt_base_url, key)


def tts_spec(settings: Settings) -> SpeechSpec:
    key = settings.tts_api_key.get_secret_value() if settings.tts_api_key else None
    return _parse("TTS", settings.tts, TTS_PROVIDERS, settings.tts_base_url, key)


def validate(settings: Settings) -> None:
    """Fail at startup, with the variable's name, on a provider nobody can build."""
    stt_spec(settings)
    tts_spec(settings)


def tts_voice_sources(settings: Settings) -> frozenset[str]:
    """Where this deployment's voices come from: ``local`` voices are spoken by
    the offline engines, in the worker or by a compatible server (``voxa
    speech`` serves the local catalog by id); the others by their provider."""
    spec = tts_spec(settings)
    if spec.provider == "local" or not spec.official_openai:
        return frozenset({"local"})
    return frozenset({spec.provider})


def recognition_languages(settings: Settings) -> frozenset[str] | None:
    """Languages sessions may use: what the offline recognizer understands,
    or None (any; the provider answers for it) with a provider."""
    if stt_spec(settings).provider != "local":
        return None
    from voxa.speech.whisper import recognition_languages as offline

    return offline()
