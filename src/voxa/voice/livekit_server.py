"""A LiveKit server for development and tests: the ``livekit-server`` binary
(built by the set-up script with ``go install``) bound to 127.0.0.1 on free
ports, with a per-installation API key pair. Production points at a real
server or cluster through ``LIVEKIT_URL`` instead."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from voxa.logs import get_logger
from voxa.procs import die_with_parent, stop_group

log = get_logger(__name__)


def find_binary(project_root: Path | None = None) -> Path | None:
    """``livekit-server`` from PATH, the project's ``.tools/bin`` or the set-up cache."""
    on_path = shutil.which("livekit-server")
    if on_path:
        return Path(on_path)
    candidates = []
    if project_root is not None:
        candidates.append(project_root / ".tools" / "bin" / "livekit-server")
    cache = Path(os.environ.get("VOXA_CACHE_DIR", Path.home() / ".cache" / "voxa"))
    candidates += sorted((cache / "bin").glob("livekit-server-*"), reverse=True)
    return next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _PortTaken(Exception):
    """Another process bound one of livekit-server's ports first."""


@dataclass(frozen=True, slots=True)
class LiveKitEndpoint:
    url: str
    api_key: str
    api_secret: str


class LiveKitDevServer:
    """Start/stop a loopback-only ``livekit-server``; usable sync (tests) or async."""

    def __init__(self, binary: Path, *, work_dir: Path, port: int | None = None) -> None:
        self.binary = binary
        self.work_dir = work_dir
        self.port = port or _free_port()
        self.rtc_tcp_port = _free_port()
        self.rtc_udp_port = _free_port(socket.SOCK_DGRAM)
        self.api_key = "voxa"
        self.api_secret = self._secret()
        self._proc: subprocess.Popen[bytes] | None = None

    def _secret(self) -> str:
        path = self.work_dir / "livekit_secret"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def endpoint(self) -> LiveKitEndpoint:
        return LiveKitEndpoint(f"ws://127.0.0.1:{self.port}", self.api_key, self.api_secret)

    def _config(self) -> str:
        return (
            f"port: {self.port}\n"
            "bind_addresses: ['127.0.0.1']\n"
            "rtc:\n"
            f"  tcp_port: {self.rtc_tcp_port}\n"
            f"  udp_port: {self.rtc_udp_port}\n"
            "  use_external_ip: false\n"
            "  enable_loopback_candidate: true\n"
            "room:\n"
            "  empty_timeout: 60\n"
            "  departure_timeout: 20\n"
            "logging:\n"
            "  level: warn\n"
            f"keys:\n  {self.api_key}: {self.api_secret}\n"
        )

    def start(self, *, wait_s: float = 30, attempts: int = 3) -> LiveKitEndpoint:
        """livekit-server cannot bind port 0 and report it: its ports are chosen
        free just before it starts, so another process can take one in between.
        If that happened (it exits with "address already in use"), choose fresh
        ports and start again."""
        for attempt in range(1, attempts + 1):
            try:
                return self._start_once(wait_s)
            except _PortTaken:
                if attempt == attempts:
                    raise RuntimeError("livekit-server: its ports were taken "
                                       f"{attempts} times in a row") from None
                log.warning("livekit_port_taken", attempt=attempt)
                self.port = _free_port()
                self.rtc_tcp_port = _free_port()
                self.rtc_udp_port = _free_port(socket.SOCK_DGRAM)
        raise AssertionError("unreachable")

    def _start_once(self, wait_s: float) -> LiveKitEndpoint:
        config = self.work_dir / "livekit.yaml"
        config.write_text(self._config())
        config.chmod(0o600)
        log_path = self.work_dir / "livekit-server.log"
        logged_before = log_path.stat().st_size if log_path.exists() else 0
        logf = open(log_path, "ab")  # noqa: SIM115 - child owns it
        try:
            self._proc = subprocess.Popen(
                [str(self.binary), "--config", str(config), "--bind", "127.0.0.1",
                 "--node-ip", "127.0.0.1"],
                stdout=logf, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=die_with_parent,
            )
        finally:
            logf.close()
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._proc = None
                with open(log_path, "rb") as f:
                    f.seek(logged_before)
                    if b"address already in use" in f.read():
                        raise _PortTaken
                raise RuntimeError(f"livekit-server exited; see {log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1).status_code == 200:
                    log.info("livekit_server_started", url=self.endpoint.url, pid=self._proc.pid)
                    return self.endpoint
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("livekit-server did not become ready")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        stop_group(proc, timeout=10)
        log.info("livekit_server_stopped")

    async def astart(self) -> LiveKitEndpoint:
        return await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)
