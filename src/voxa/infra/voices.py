"""The voice catalog: which voices a session may choose (``GET /v1/voices``).

Each entry names the TTS engine and the engine's own voice id. ``local``
voices (Piper, espeak-ng) are spoken offline, by the worker or by a ``voxa
speech`` server; the others by their provider (``engine`` = the provider,
e.g. ``openai``). Which sources this deployment has (``VOXA_TTS``) decides
which voices are available. An operator can replace the catalog with a JSON
file (``VOXA_VOICES_FILE``): a list of objects with the fields of :class:`Voice`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from voxa.errors import InvalidInput, Unsupported

LOCAL_ENGINES = frozenset({"piper", "espeak-ng"})
# ISO 639-2 "multiple languages": the voice speaks whatever it is given.
MULTILINGUAL = "mul"


@dataclass(frozen=True, slots=True)
class Voice:
    id: str
    name: str
    engine: str  # "piper" | "espeak-ng" | a provider plugin name ("openai")
    language: str
    engine_voice: str

    @property
    def source(self) -> str:
        """``local`` (offline engines) or the provider that speaks it."""
        return "local" if self.engine in LOCAL_ENGINES else self.engine

    def speaks(self, language: str) -> bool:
        return self.language == MULTILINGUAL or (
            self.language.split("-")[0] == language.split("-")[0])

    def public(self) -> dict[str, str]:
        data = asdict(self)
        del data["engine_voice"]
        data["source"] = self.source
        return data


DEFAULT_VOICES: tuple[Voice, ...] = (
    Voice("joe", "Joe", "piper", "en-US", "en_US-joe-medium"),
    Voice("craig", "Craig", "espeak-ng", "en-GB", "en-gb-scotland+m3"),
    Voice("olivia", "Olivia", "espeak-ng", "en-US", "en-us+f3"),
    Voice("aria", "Aria", "espeak-ng", "en-US", "en-us+f5"),
    Voice("max", "Max", "espeak-ng", "en-US", "en-us+m7"),
    Voice("lucia", "Lucía", "espeak-ng", "es-ES", "es+f3"),
    Voice("diego", "Diego", "espeak-ng", "es-419", "es-419+m3"),
    Voice("hanna", "Hanna", "espeak-ng", "de-DE", "de+f2"),
    Voice("lukas", "Lukas", "espeak-ng", "de-DE", "de+m3"),
    Voice("camille", "Camille", "espeak-ng", "fr-FR", "fr+f3"),
    Voice("giulia", "Giulia", "espeak-ng", "it-IT", "it+f3"),
    Voice("ines", "Inês", "espeak-ng", "pt-PT", "pt+f2"),
    # OpenAI's voices (VOXA_TTS=openai:<model> against OpenAI itself)
    *(Voice(f"openai-{v}", v.capitalize(), "openai", MULTILINGUAL, v) for v in (
        "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage",
        "shimmer")),
)


class VoiceCatalog:
    """The catalog, knowing which sources this deployment has (``sources``)
    and which languages its recognition supports (``languages``; None: any)."""

    def __init__(self, voices: tuple[Voice, ...] = DEFAULT_VOICES, *,
                 sources: frozenset[str] = frozenset({"local"}),
                 languages: frozenset[str] | None = None) -> None:
        if not voices:
            raise ValueError("the voice catalog is empty")
        self._voices = {v.id.lower(): v for v in voices}
        self.sources = sources
        self.languages = languages
        usable = [v for v in voices if v.source in sources]
        if not usable:
            raise ValueError(f"no voice in the catalog comes from {', '.join(sorted(sources))}")
        self.default = usable[0]

    @classmethod
    def load(cls, path: Path | None, *, sources: frozenset[str] = frozenset({"local"}),
             languages: frozenset[str] | None = None) -> VoiceCatalog:
        if path is None:
            return cls(sources=sources, languages=languages)
        entries = json.loads(path.read_text())
        return cls(tuple(Voice(**entry) for entry in entries), sources=sources,
                   languages=languages)

    def __iter__(self) -> Iterator[Voice]:
        return iter(self._voices.values())

    def available(self, voice: Voice) -> bool:
        return voice.source in self.sources

    def resolve(self, voice_id: str) -> Voice:
        """The catalog voice for ``voice_id`` (case-insensitive), or ``InvalidInput``."""
        voice = self._voices.get(voice_id.strip().lower())
        if voice is None:
            known = ", ".join(sorted(self._voices))
            raise InvalidInput(
                f"unknown voice {voice_id!r}; choose one of: {known}", code="unknown_voice"
            )
        return voice

    def resolve_available(self, voice_id: str) -> Voice:
        """As ``resolve``, and refused (422) when this deployment cannot speak it."""
        voice = self.resolve(voice_id)
        if not self.available(voice):
            here = ", ".join(v.id for v in self if self.available(v))
            raise Unsupported(
                f"voice {voice.id!r} comes from {voice.source}, which this deployment does "
                f"not use (VOXA_TTS); available: {here}", code="voice_unavailable")
        return voice

    def check_language(self, language: str) -> None:
        """Refuse (422) a language recognition cannot hear, naming those it can."""
        if self.languages is None or language.split("-")[0] in self.languages:
            return
        supported = ", ".join(sorted(self.languages))
        raise Unsupported(f"speech recognition here does not support {language!r}; "
                          f"supported languages: {supported}", code="unsupported_language")

    def for_language(self, language: str, preferred: Voice) -> Voice:
        """``preferred`` when it speaks ``language``, else the first available
        voice made for it, else a multilingual one, else ``preferred``."""
        if preferred.speaks(language):
            return preferred
        fitting = [v for v in self if self.available(v) and v.speaks(language)]
        fitting.sort(key=lambda v: v.language == MULTILINGUAL)  # stable: catalog order
        return fitting[0] if fitting else preferred
