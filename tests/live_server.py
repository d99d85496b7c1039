"""Runs the real main job (`voxa serve`) in a subprocess on a free loopback
port, with voice when livekit-server is installed; stops it afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from voxa.voice.livekit_server import find_binary

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    base: str
    data_dir: Path
    log: Path

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.data_dir / 'voxa.db'}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def live_server(tmp: Path, extra_env: dict[str, str], *, artifact: str) -> Iterator[LiveServer]:
    if find_binary(ROOT) is None:
        pytest.fail("livekit-server is not installed: run scripts/bootstrap.sh --tools")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOXA_", "LIVEKIT_"))}
    env.update({"VOXA_DATA_DIR": str(tmp / "data"), "VOXA_AGENT_HEARTBEAT_SECONDS": "1",
                "VOXA_CLEANUP_INTERVAL_SECONDS": "2", "VOXA_ENV": "test", **extra_env})
    log = tmp / "serve.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen([sys.executable, "-m", "voxa.cli", "serve", "--port", str(port)],
                                env=env, stdout=logf, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=ROOT)
    server = LiveServer(f"http://127.0.0.1:{port}", tmp / "data", log)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, server.log_text()[-4000:]
            try:
                if httpx.get(f"{server.base}/readyz", timeout=1).status_code == 200 and (
                        "registered worker" in server.log_text()):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("voxa serve did not come up:\n" + server.log_text()[-4000:])
        yield server
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        artifacts = ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        (artifacts / artifact).write_bytes(log.read_bytes())
