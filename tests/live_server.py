"""The real main job (`voxa serve`, with voice) for end-to-end tests, started
with the same launcher the benchmarks use; its log is kept as a test artifact.

It runs on the backends the suite supports: SQLite with the store `voxa serve`
picks by default (SQL-backed, shared with the voice job processes), and
PostgreSQL + Redis as the non-superuser application role (row-level security
binds the real processes) when ``VOXA_TEST_POSTGRES_URL`` and
``VOXA_TEST_REDIS_URL`` are set."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from voxa.bench.common import Backend, serve
from voxa.kv import create_store
from voxa.kv.base import TTLStore
from voxa.voice.livekit_server import find_binary

ROOT = Path(__file__).resolve().parents[1]
SQLITE = Backend("sqlite+memory", None, None)


@dataclass
class LiveServer:
    base: str
    data_dir: Path
    backend: Backend = SQLITE
    redis_prefix: str = field(default_factory=lambda: f"live-{uuid.uuid4().hex[:8]}:")

    @property
    def log(self) -> Path:
        return self.data_dir / "serve.log"

    @property
    def database_url(self) -> str:
        return self.backend.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'voxa.db'}"

    def store(self) -> TTLStore:
        """The store the server's processes share: Redis under its prefix, or
        the SQL-backed one in its database (what `voxa serve` picks with voice)."""
        if self.backend.redis_url:
            return create_store(self.backend.redis_url, prefix=self.redis_prefix)
        return create_store(None, kind="sql", database_url=self.database_url)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def live_server(tmp: Path, extra_env: dict[str, str], *, artifact: str,
                backend: Backend = SQLITE) -> Iterator[LiveServer]:
    """``extra_env`` chooses the model etc.; without ``VOXA_LLM`` it is the local one."""
    if find_binary(ROOT) is None:
        pytest.fail("livekit-server is not installed: run scripts/bootstrap.sh --tools")
    server = LiveServer("", tmp / "data", backend)
    env = {"VOXA_LLM": "local", "VOXA_AGENT_HEARTBEAT_SECONDS": "2",
           "VOXA_CLEANUP_INTERVAL_SECONDS": "2", **extra_env}
    if backend.redis_url:
        env["VOXA_REDIS_PREFIX"] = server.redis_prefix
    try:
        with serve(backend, server.data_dir, voice=True, extra_env=env,
                   log_level="INFO") as s:
            server.base = s.base
            yield server
        # everything serve started (livekit-server, the model server) went with it
        deadline = time.monotonic() + 5
        while True:  # children exit on their own signal: wait for that
            leftovers = subprocess.run(["pgrep", "-f", str(server.data_dir)],
                                       capture_output=True, text=True).stdout.strip()
            if not leftovers or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert leftovers == "", f"orphaned processes: {leftovers}"
        # stopped the way docker and systemd stop it (SIGTERM to the group): in order
        log = server.log_text()
        assert "Application shutdown failed" not in log and "exit code 255" not in log
        assert (server.data_dir / "voxa.db").exists() == (backend.database_url is None)
    finally:
        if server.log.exists():
            artifacts = ROOT / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            (artifacts / artifact).write_bytes(server.log.read_bytes())
