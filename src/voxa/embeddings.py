"""Sentence embeddings, offline: WordLlama's 256-dimension model, whose
weights ship inside its PyPI wheel (nothing is downloaded). Used to find a
business's knowledge passages by meaning ("can I get my money back" finds
the refunds passage, which shares none of its words)."""

from __future__ import annotations

import asyncio
import functools
import os
from pathlib import Path
from typing import Any

import numpy as np

from voxa.logs import get_logger

log = get_logger(__name__)

DIMENSIONS = 256
Vectors = np.ndarray[Any, np.dtype[np.float32]]


@functools.cache
def _model() -> Any:
    # Loaded once per process (weights are read-only); from the wheel's own
    # directory, so it never looks for a download cache. One sentence at a
    # time needs no tokenizer threads, and processes forked after a load
    # (voice jobs, voice/forkserver.py) must not inherit any.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import wordllama

    return wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent,
                                    dim=DIMENSIONS, disable_download=True)


@functools.cache
def available() -> bool:
    """Whether the offline embedding model is installed and loads (decided
    once per process: a missing package is not retried, nor logged, per turn)."""
    try:
        _model()
    except Exception as exc:  # a missing or broken package: retrieval by words only
        log.warning("embeddings_unavailable", error=repr(exc))
        return False
    return True


async def ready() -> bool:
    """:func:`available`, off the event loop (the first call loads the model)."""
    return await asyncio.to_thread(available)


def embed_now(texts: list[str]) -> Vectors:
    """Unit-length vectors for ``texts`` (one row each); blocking, fast (~20 µs a text)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = np.asarray(_model().embed(texts, norm=True), dtype=np.float32)
    return vectors.reshape(len(texts), DIMENSIONS)


async def embed(texts: list[str]) -> Vectors:
    """:func:`embed_now` off the event loop."""
    return await asyncio.to_thread(embed_now, texts)


def to_bytes(vector: Vectors) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> Vectors:
    return np.frombuffer(data, dtype="<f4")
