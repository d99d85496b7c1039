"""The real main job (`voxa serve`, with voice) for end-to-end tests, started
with the same launcher the benchmarks use; its log is kept as a test artifact."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from voxa.bench.common import Backend, serve
from voxa.voice.livekit_server import find_binary

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LiveServer:
    base: str
    data_dir: Path

    @property
    def log(self) -> Path:
        return self.data_dir / "serve.log"

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.data_dir / 'voxa.db'}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def live_server(tmp: Path, extra_env: dict[str, str], *, artifact: str) -> Iterator[LiveServer]:
    """``extra_env`` chooses the model etc.; without ``VOXA_LLM`` it is the local one."""
    if find_binary(ROOT) is None:
        pytest.fail("livekit-server is not installed: run scripts/bootstrap.sh --tools")
    env = {"VOXA_LLM": "local", "VOXA_AGENT_HEARTBEAT_SECONDS": "2",
           "VOXA_CLEANUP_INTERVAL_SECONDS": "2", **extra_env}
    server = LiveServer("", tmp / "data")
    try:
        with serve(Backend("sqlite+memory", None, None), server.data_dir, voice=True,
                   extra_env=env, log_level="INFO") as s:
            server.base = s.base
            yield server
        # everything serve started (livekit-server, the model server) went with it
        for _ in range(50):  # children exit on their own signal; give them a moment
            leftovers = subprocess.run(["pgrep", "-f", str(server.data_dir)],
                                       capture_output=True, text=True).stdout.strip()
            if not leftovers:
                break
            time.sleep(0.1)
        assert leftovers == "", f"orphaned processes: {leftovers}"
        # stopped the way docker and systemd stop it (SIGTERM to the group): in order
        log = server.log_text()
        assert "Application shutdown failed" not in log and "exit code 255" not in log
    finally:
        if server.log.exists():
            artifacts = ROOT / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            (artifacts / artifact).write_bytes(server.log.read_bytes())
