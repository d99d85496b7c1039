"""espeak-ng (a Debian package): many languages, offline, robotic."""

from __future__ import annotations

import io
import subprocess
import wave

import numpy as np

ESPEAK_RATE = 22_050


def espeak_args(voice: str, text: str, *, speaking_rate: float) -> list[str]:
    return ["espeak-ng", "-v", voice, "-s", str(int(175 * speaking_rate)), "--stdout", "--",
            text]


def wav_to_pcm(wav: bytes, rate: int = ESPEAK_RATE) -> bytes:
    """int16 mono PCM at ``rate`` from espeak-ng's WAV output."""
    with wave.open(io.BytesIO(wav)) as w:
        pcm = w.readframes(w.getnframes())
        source = w.getframerate()
    return resample_pcm(pcm, source, rate)


def resample_pcm(pcm: bytes, source: int, target: int) -> bytes:
    if source == target:
        return bytes(pcm)
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    n = int(len(samples) * target / source)
    return np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)),
                     samples).astype(np.int16).tobytes()


def espeak_pcm(voice: str, text: str, *, speaking_rate: float = 1.0,
               timeout: float = 30) -> bytes:
    """Blocking: for a replica thread of ``voxa speech``."""
    done = subprocess.run(espeak_args(voice, text, speaking_rate=speaking_rate),
                          capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"espeak-ng failed: {done.stderr.decode(errors='replace')[:200]}")
    return wav_to_pcm(done.stdout)
