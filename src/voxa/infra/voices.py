"""The voice catalog: which voices a session may choose (``GET /v1/voices``).

Each entry names the TTS engine and the engine's own voice id; the voice worker
maps them to installed engines. An operator can replace the catalog with a JSON
file (``VOXA_VOICES_FILE``): a list of objects with the fields of :class:`Voice`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from voxa.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Voice:
    id: str
    name: str
    engine: str  # "piper" | "espeak-ng" | a cloud plugin name
    language: str
    engine_voice: str

    def public(self) -> dict[str, str]:
        data = asdict(self)
        del data["engine_voice"]
        return data


DEFAULT_VOICES: tuple[Voice, ...] = (
    Voice("joe", "Joe", "piper", "en-US", "en_US-joe-medium"),
    Voice("craig", "Craig", "espeak-ng", "en-GB", "en-gb-scotland+m3"),
    Voice("olivia", "Olivia", "espeak-ng", "en-US", "en-us+f3"),
    Voice("aria", "Aria", "espeak-ng", "en-US", "en-us+f5"),
    Voice("max", "Max", "espeak-ng", "en-US", "en-us+m7"),
)


class VoiceCatalog:
    def __init__(self, voices: tuple[Voice, ...] = DEFAULT_VOICES) -> None:
        if not voices:
            raise ValueError("the voice catalog is empty")
        self._voices = {v.id.lower(): v for v in voices}
        self.default = voices[0]

    @classmethod
    def load(cls, path: Path | None) -> VoiceCatalog:
        if path is None:
            return cls()
        entries = json.loads(path.read_text())
        return cls(tuple(Voice(**entry) for entry in entries))

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._voices.values())

    def resolve(self, voice_id: str) -> Voice:
        """The catalog voice for ``voice_id`` (case-insensitive), or ``InvalidInput``."""
        voice = self._voices.get(voice_id.strip().lower())
        if voice is None:
            known = ", ".join(sorted(self._voices))
            raise InvalidInput(
                f"unknown voice {voice_id!r}; choose one of: {known}", code="unknown_voice"
            )
        return voice
