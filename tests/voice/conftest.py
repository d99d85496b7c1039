"""The voice stack for end-to-end tests: the real main job (`voxa serve`: API,
livekit-server on loopback, the model and the voice worker) in a subprocess,
and real `livekit.rtc` clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from functools import cache

import httpx
import numpy as np
import pytest

from tests.live_server import LiveServer, live_server
from voxa.bench.common import Backend
from voxa.kv import TTLStore
from voxa.voice.client import VoiceClient, caller_speech

pytestmark = [pytest.mark.slow, pytest.mark.voice]


@pytest.fixture(scope="module")
def voice_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                live_backend: Backend) -> Iterator[LiveServer]:
    """The main job as README's first command runs it, with the model a test
    module names in ``VOICE_LLM``: by default the scripted one (it echoes "You
    said: …" at once, so each reply also shows what its agent heard), and
    any further settings it names in ``VOICE_ENV``.
    Module-scoped: one stack at a time on two cores. On SQLite, or on each
    backend the module parametrizes ``live_backend`` with."""
    llm = getattr(request.module, "VOICE_LLM", "scripted")
    extra: dict[str, str] = getattr(request.module, "VOICE_ENV", {})
    name = request.module.__name__.rsplit(".", 1)[-1] if extra else f"voice-{llm}"
    # Callers of these tests wait their turn in silence, on two busy cores for
    # minutes (six sessions, two talking at a time): the 120 s production
    # silence timeout would end them mid-test. test_voice_lifecycle tests it.
    env = {"VOXA_LLM": llm, "VOXA_VOICE_SILENCE_SECONDS": "900", **extra}
    suffix = "" if live_backend.database_url is None else "-postgres"
    yield from live_server(tmp_path_factory.mktemp(name), env,
                           artifact=f"{name}{suffix}-serve.log", backend=live_backend)


@pytest.fixture
async def api(voice_stack: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=voice_stack.base, timeout=60) as c:
        yield c


@pytest.fixture
async def store(voice_stack: LiveServer) -> AsyncIterator[TTLStore]:
    s = voice_stack.store()
    yield s
    await s.aclose()


@pytest.fixture
async def clients() -> AsyncIterator[list[VoiceClient]]:
    opened: list[VoiceClient] = []
    yield opened
    await asyncio.gather(*(c.aclose() for c in opened), return_exceptions=True)


# each test phrase was checked to be heard as meant by Whisper tiny (tests/voice/heard.py)
_speech = cache(caller_speech)


async def speech(text: str) -> tuple[bytes, int]:
    """``text`` spoken by the offline Piper voice (int16 mono PCM, sample rate),
    rendered the same way every time.

    Synthesized in a thread: blocking the test's event loop for it can starve
    the other clients' microphones mid-sentence (their send queue runs dry, the
    agent's VAD hears a pause and cuts the word in two)."""
    return await asyncio.to_thread(_speech, text)


def median_pitch(samples: np.ndarray, rate: int = 48_000) -> float:
    """Median fundamental frequency (Hz) of the voiced 40 ms windows (autocorrelation)."""
    x = samples.astype(np.float64)
    win = int(0.04 * rate)
    lo, hi = int(rate / 400), int(rate / 70)
    pitches = []
    for i in range(0, len(x) - win, win):
        w = x[i:i + win] - x[i:i + win].mean()
        if np.sqrt(np.mean(w ** 2)) < 800:
            continue
        ac = np.correlate(w, w, mode="full")[win - 1:]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            pitches.append(rate / lag)
    return float(np.median(pitches)) if pitches else 0.0
