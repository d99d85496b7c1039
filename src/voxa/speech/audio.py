"""Audio in and out of ``voxa speech``: WAV (or raw PCM) uploads to Whisper's
input, and int16 speech to OpenAI's output formats (24 kHz mono)."""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np

WHISPER_RATE = 16_000
# OpenAI's speech output: "pcm" is raw int16 little-endian mono at 24 kHz.
OUTPUT_RATE = 24_000
OUTPUT_FORMATS = {"wav": "audio/wav", "pcm": "audio/pcm"}


class BadAudio(ValueError):
    pass


def _resample(samples: np.ndarray[Any, np.dtype[np.float32]], source: int,
              target: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    if source == target or not len(samples):
        return samples
    n = int(len(samples) * target / source)
    out: np.ndarray[Any, np.dtype[np.float32]] = np.interp(
        np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples
    ).astype(np.float32)
    return out


def whisper_input(data: bytes) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Mono float32 at 16 kHz from a 16-bit PCM WAV file."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            if w.getsampwidth() != 2:
                raise BadAudio("only 16-bit PCM WAV is accepted")
            channels, rate = w.getnchannels(), w.getframerate()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:
        raise BadAudio(f"not a WAV file: {e}") from e
    samples = np.frombuffer(frames, dtype=np.int16).astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    return _resample(samples.astype(np.float32), rate, WHISPER_RATE)


def speech_output(pcm: bytes, rate: int, response_format: str) -> bytes:
    """int16 mono ``pcm`` at ``rate`` as ``response_format`` at 24 kHz."""
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    out = _resample(samples, rate, OUTPUT_RATE).astype(np.int16).tobytes()
    if response_format == "pcm":
        return out
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(OUTPUT_RATE)
        w.writeframes(out)
    return buf.getvalue()
