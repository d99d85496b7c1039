"""Per-turn audio of a call, kept for review: what the caller said in each
turn (the frames the recognizer heard since the previous turn, without the
silence around the words) and what the agent said in each reply (the frames
speech synthesis produced). Each turn is encoded as OGG/Opus (PyAV) off the
event loop, stored in the audio store and referenced from its message
(``audio_url``, ``audio_duration_ms``)."""

from __future__ import annotations

import asyncio
import io
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable

import numpy as np
from livekit import rtc

from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.storage.audio_store import audio_key, audio_url
from voxa.storage.repos import messages as messages_repo
from voxa.storage.scope import Scope

log = get_logger(__name__)

OPUS_RATE = 48_000
OPUS_BITRATE = 24_000  # speech, mono: clear at 24 kbit/s (≈4 KB per second with the container)
PAD_S = 0.3  # of silence kept around the caller's words
MAX_HEARD_S = 60.0  # of caller audio kept while waiting for a turn to end
VOICED_RMS = 300.0  # int16 level above which a frame holds speech, not line noise


def encode_ogg_opus(frames: list[rtc.AudioFrame]) -> tuple[bytes, int]:
    """Mono OGG/Opus of ``frames`` (any rate, mixed down), and its duration in ms."""
    import av

    buf = io.BytesIO()
    container = av.open(buf, "w", format="ogg")
    stream = container.add_stream("libopus", rate=OPUS_RATE)
    stream.layout = "mono"  # type: ignore[union-attr]
    stream.bit_rate = OPUS_BITRATE  # type: ignore[union-attr]
    resampler = av.AudioResampler(format="s16", layout="mono", rate=OPUS_RATE)
    samples = 0
    for frame in frames:
        pcm = np.frombuffer(frame.data, dtype=np.int16).reshape(-1, frame.num_channels)
        mono = pcm.mean(axis=1).astype(np.int16).reshape(1, -1)
        samples += mono.shape[1] * OPUS_RATE // frame.sample_rate
        av_frame = av.AudioFrame.from_ndarray(mono, format="s16", layout="mono")
        av_frame.sample_rate = frame.sample_rate
        for out in resampler.resample(av_frame):
            container.mux(stream.encode(out))  # type: ignore[union-attr]
    for out in resampler.resample(None):
        container.mux(stream.encode(out))  # type: ignore[union-attr]
    container.mux(stream.encode(None))  # type: ignore[union-attr]
    container.close()
    return buf.getvalue(), samples * 1000 // OPUS_RATE


def _voiced(frame: rtc.AudioFrame) -> bool:
    pcm = np.frombuffer(frame.data, dtype=np.int16).astype(np.float64)
    return bool(pcm.size) and float(np.sqrt(np.mean(pcm ** 2))) > VOICED_RMS


def trim_silence(frames: list[rtc.AudioFrame]) -> list[rtc.AudioFrame]:
    """``frames`` from just before the first voiced frame to just after the last."""
    voiced = [i for i, f in enumerate(frames) if _voiced(f)]
    if not voiced:
        return []
    per_frame = frames[0].samples_per_channel / frames[0].sample_rate or 0.01
    pad = int(PAD_S / per_frame)
    return frames[max(0, voiced[0] - pad):voiced[-1] + pad + 1]


class TurnRecorder:
    """One call's turn audio. ``heard``/``spoken`` tee the audio the agent's
    recognizer and synthesizer handle; ``keep_*`` store a finished turn's."""

    def __init__(self, rt: Runtime, *, session_id: str, scope: Scope) -> None:
        self._rt = rt
        self._sid = session_id
        self._scope = scope
        self._heard: deque[tuple[float, rtc.AudioFrame]] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self.enabled = rt.settings.audio_keep

    async def heard(self, audio: AsyncIterable[rtc.AudioFrame]) -> AsyncIterator[rtc.AudioFrame]:
        async for frame in audio:
            if self.enabled:
                now = time.monotonic()
                self._heard.append((now, frame))
                while self._heard and self._heard[0][0] < now - MAX_HEARD_S:
                    self._heard.popleft()
            yield frame

    def keep_user_turn(self, message_id: int) -> None:
        frames = trim_silence([f for _, f in self._heard])
        self._heard.clear()
        self._keep(message_id, frames)

    async def spoken(self, audio: AsyncIterable[rtc.AudioFrame],
                     reply_id: Callable[[], int | None]) -> AsyncIterator[rtc.AudioFrame]:
        """Tee synthesized audio. When it ends (or is cut off), ``reply_id`` says
        which persisted reply it spoke: synthesis ends after the reply's text,
        so after the pipeline persisted it; None for the agent's other lines."""
        frames: list[rtc.AudioFrame] = []
        try:
            async for frame in audio:
                frames.append(frame)
                yield frame
        finally:
            mid = reply_id()
            if mid is not None:
                self._keep(mid, frames)

    def _keep(self, message_id: int, frames: list[rtc.AudioFrame]) -> None:
        if not self.enabled or not frames:
            return
        task = asyncio.create_task(self._store(message_id, frames),
                                   name=f"keep-audio-{self._sid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _store(self, message_id: int, frames: list[rtc.AudioFrame]) -> None:
        try:
            data, duration_ms = await asyncio.to_thread(encode_ogg_opus, frames)
            await self._rt.audio.put(audio_key(self._sid, message_id), data)
            async with self._rt.db() as db:
                await messages_repo.set_audio(db, self._sid, message_id,
                                              url=audio_url(self._sid, message_id),
                                              duration_ms=duration_ms, scope=self._scope)
                await db.commit()
            log.info("turn_audio_kept", message_id=message_id, bytes=len(data),
                     duration_ms=duration_ms)
        except Exception:
            log.exception("turn_audio_not_kept", message_id=message_id)

    async def flush(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
