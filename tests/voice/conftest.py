"""The voice stack for end-to-end tests: the real main job (`voxa serve`: API,
livekit-server on loopback, the shared SmolLM2 server and the voice worker)
in a subprocess, and real `livekit.rtc` clients."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from voxa.kv.sql import SqlStore
from voxa.storage.db import create_engine
from voxa.voice.client import VoiceClient
from voxa.voice.livekit_server import find_binary

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.voice]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class VoiceStack:
    base: str
    data_dir: Path
    log: Path

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.data_dir / 'voxa.db'}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="session")
def voice_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoiceStack]:
    if find_binary(ROOT) is None:
        pytest.fail("livekit-server is not installed: run scripts/bootstrap.sh --tools")
    tmp = tmp_path_factory.mktemp("voice")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOXA_", "LIVEKIT_"))}
    env.update({"VOXA_DATA_DIR": str(tmp / "data"), "VOXA_AGENT_HEARTBEAT_SECONDS": "1",
                "VOXA_CLEANUP_INTERVAL_SECONDS": "2", "VOXA_ENV": "test"})
    log = tmp / "serve.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen([sys.executable, "-m", "voxa.cli", "serve", "--port", str(port)],
                                env=env, stdout=logf, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=ROOT)
    stack = VoiceStack(f"http://127.0.0.1:{port}", tmp / "data", log)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, stack.log_text()[-4000:]
            try:
                if httpx.get(f"{stack.base}/readyz", timeout=1).status_code == 200 and (
                        "registered worker" in stack.log_text()):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("voxa serve with voice did not come up:\n" + stack.log_text()[-4000:])
        yield stack
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        artifacts = ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        (artifacts / "voice-serve.log").write_bytes(log.read_bytes())


@pytest.fixture
async def api(voice_stack: VoiceStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=voice_stack.base, timeout=60) as c:
        yield c


@pytest.fixture
async def store(voice_stack: VoiceStack) -> AsyncIterator[SqlStore]:
    s = SqlStore(create_engine(voice_stack.database_url))
    yield s
    await s.aclose()


@pytest.fixture
async def clients() -> AsyncIterator[list[VoiceClient]]:
    opened: list[VoiceClient] = []
    yield opened
    await asyncio.gather(*(c.aclose() for c in opened), return_exceptions=True)


@cache
def speech(text: str) -> tuple[bytes, int]:
    """``text`` spoken by the offline Piper voice (int16 mono PCM, sample rate)."""
    voice = _piper()
    return b"".join(c.audio_int16_bytes for c in voice.synthesize(text)), voice.config.sample_rate


@cache
def _piper() -> Any:
    from voxa.voice.tts_local import load_piper

    return load_piper("en_US-joe-medium")


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
