"""Model replicas for ``voxa speech``: each replica is a thread that owns its
own Whisper and Piper models and serves one request at a time; requests wait
in one queue of bounded length, beyond which they are refused (``Busy``).

Threads, not processes: CTranslate2 and ONNX Runtime release the GIL while
they compute, so replicas run in parallel on separate cores, and a replica's
models are loaded once, before it takes its first request.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from voxa.infra.voices import Voice
from voxa.logs import get_logger
from voxa.speech import espeak, piper, whisper

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from piper import PiperVoice

log = get_logger("voxa.speech")
T = TypeVar("T")


class Busy(Exception):
    """Every replica is working and the queue is full."""


class Replica:
    """One set of models; used by one thread only."""

    def __init__(self, *, threads: int, cache: Path) -> None:
        self._threads = threads
        self._cache = cache
        self._whisper: dict[str, WhisperModel] = {}
        self._piper: dict[str, PiperVoice] = {}

    def warm(self) -> None:
        self._model(whisper.ENGLISH_MODEL)
        for name in piper.piper_voices():
            self._voice(name)

    def _model(self, name: str) -> WhisperModel:
        if name not in self._whisper:
            self._whisper[name] = whisper.load_whisper(name, threads=self._threads,
                                                       cache=self._cache)
        return self._whisper[name]

    def _voice(self, name: str) -> PiperVoice:
        if name not in self._piper:
            self._piper[name] = piper.load_piper(name)
        return self._piper[name]

    def transcribe(self, audio: np.ndarray[Any, np.dtype[np.float32]], *, model: str,
                   language: str) -> str:
        return whisper.transcribe(self._model(model), audio, language=language)

    def speak(self, voice: Voice, text: str, *, speed: float) -> tuple[bytes, int]:
        """int16 mono PCM and its sample rate."""
        if voice.engine == "piper":
            pcm = piper.piper_pcm(self._voice(voice.engine_voice), text, speaking_rate=speed)
            return pcm, piper.piper_sample_rate(voice.engine_voice)
        if voice.engine == "espeak-ng":
            return espeak.espeak_pcm(voice.engine_voice, text, speaking_rate=speed), \
                espeak.ESPEAK_RATE
        raise ValueError(f"voice {voice.id!r} is not an offline voice")


@dataclass(slots=True)
class _Request:
    work: Callable[[Replica], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def _settle(fut: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if fut.done():  # the client went away and the request was cancelled
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)


class ReplicaPool:
    def __init__(self, *, replicas: int, queue_size: int, cache: Path,
                 threads: int | None = None) -> None:
        self.replicas = replicas
        self.capacity = replicas + queue_size
        cores = os.cpu_count() or 1
        self._threads = threads or max(1, cores // replicas)
        self._cache = cache
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._lock = threading.Lock()
        self.pending = 0  # running + waiting
        self.served = 0
        self._workers: list[threading.Thread] = []
        self._ready = threading.Barrier(replicas + 1)
        self._failed: list[Exception] = []
        self._load_lock = threading.Lock()

    def start(self) -> None:
        """Start the replicas and return once each has loaded its models."""
        for i in range(self.replicas):
            t = threading.Thread(target=self._serve, name=f"speech-replica-{i}", daemon=True)
            t.start()
            self._workers.append(t)
        self._ready.wait()
        if self._failed:
            self.stop()
            raise RuntimeError(f"a speech replica could not load its models: {self._failed[0]}")
        log.info("speech_replicas_ready", replicas=self.replicas, threads=self._threads)

    def _serve(self) -> None:
        replica = Replica(threads=self._threads, cache=self._cache)
        try:
            # one replica loads at a time: loading is CPU-bound (a Piper voice
            # takes 10-25 s on a busy 2-core machine), parallel loads only
            # slow each other
            with self._load_lock:
                replica.warm()
        except Exception as e:  # start() reports it: a server without models must not run
            self._failed.append(e)
            self._ready.wait()
            return
        self._ready.wait()
        while (req := self._queue.get()) is not None:
            try:
                result, error = req.work(replica), None
            except Exception as e:  # handed to the request's awaiter, which answers it
                result, error = None, e
            with self._lock:
                self.pending -= 1
                self.served += 1
            req.loop.call_soon_threadsafe(_settle, req.future, result, error)

    async def run(self, work: Callable[[Replica], T]) -> T:
        """``work`` on the next free replica, or ``Busy`` when the queue is full."""
        with self._lock:
            if self.pending >= self.capacity:
                raise Busy(f"{self.pending} speech requests in progress or waiting")
            self.pending += 1
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Request(work, fut, loop))
        return await fut

    def stop(self) -> None:
        for _ in self._workers:
            self._queue.put(None)
        for t in self._workers:
            t.join(timeout=30)
