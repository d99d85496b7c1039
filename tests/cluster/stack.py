"""The cluster on one machine, all on loopback: two ``livekit-server`` nodes in
LiveKit's multi-node mode (sharing one Redis), two API replicas (``voxa serve``
without voice), two voice workers (``voxa worker``, one per node), the Celery
jobs (``voxa jobs``), one PostgreSQL database and one Redis — every process
its own, started here and stopped at the end (the killed ones included)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from voxa.bench.common import BENCH_LIMITS
from voxa.voice.livekit_server import LiveKitDevServer

API_KEY = "voxa-cluster"
SECRET_KEY = "cluster-test-secret-key-0123456789abcdef"
START_TIMEOUT = 240.0  # voice workers load Whisper and Piper on two busy cores


class ClusterNode(LiveKitDevServer):
    """One node of LiveKit's multi-node mode: rooms and agent jobs are routed
    between nodes through the shared Redis. Rooms go to the node with the
    fewest (``sort_by: rooms``), so sessions started one after another spread."""

    def __init__(self, binary: Path, *, work_dir: Path, redis_address: str, redis_db: int,
                 secret: str) -> None:
        self._shared_secret = secret
        super().__init__(binary, work_dir=work_dir)
        self.api_key = API_KEY
        self.redis_address = redis_address
        self.redis_db = redis_db

    def _secret(self) -> str:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        return self._shared_secret

    def _config(self) -> str:
        return (super()._config().replace("level: warn", "level: info")
                + f"redis:\n  address: {self.redis_address}\n  db: {self.redis_db}\n"
                + "node_selector:\n  kind: any\n  sort_by: rooms\n")

    def terminate(self) -> None:
        """SIGTERM to the server alone, as an orchestrator stops a node."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGTERM)

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def wait_exit(self, within: float) -> int | None:
        assert self._proc is not None
        try:
            return self._proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            return None

    def log(self) -> str:
        return (self.work_dir / "livekit-server.log").read_text(errors="replace")

    @property
    def node_id(self) -> str:
        """LiveKit's id of this node (as ``room_node_map`` in Redis names it)."""
        text = (self.work_dir / "livekit-server.log").read_text(errors="replace")
        found = re.search(r'"nodeID": "([A-Za-z0-9_]+)"', text)
        assert found, "livekit-server did not log its node id"
        return found.group(1)


@dataclass
class Proc:
    """One voxa process of the cluster (its own process group)."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    ready: Callable[[Proc], bool]
    popen: subprocess.Popen[bytes] | None = None
    base: str = ""  # API replicas: their URL (known once the port file is written)
    port_file: Path | None = None  # API replicas bind port 0 and write the port here
    started_at: float = 0.0

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> None:
        if self.port_file is not None:  # a restart binds a new port
            self.base = ""
            self.port_file.unlink(missing_ok=True)
        with open(self.log_path, "ab") as out:
            self.popen = subprocess.Popen(self.args, env=self.env, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        self.started_at = time.monotonic()

    def wait_ready(self, within: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + within
        while not self.ready(self):
            assert self.popen is not None
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not become ready:\n{self.log()[-3000:]}")
            time.sleep(0.2)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int, *, group: bool = False) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(self.pid, sig)
            else:
                os.kill(self.pid, sig)

    def wait_exit(self, within: float) -> int | None:
        assert self.popen is not None
        try:
            return self.popen.wait(timeout=within)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """SIGTERM, a second one (a draining worker stops waiting), then SIGKILL:
        whatever the test left running, nothing outlives the module."""
        if self.popen is None:
            return
        for sig, within in ((signal.SIGTERM, 30.0), (signal.SIGTERM, 20.0)):
            if self.popen.poll() is None:
                self.signal(sig)
                self.wait_exit(within)
        self.signal(signal.SIGKILL, group=True)  # job processes, if any were left
        self.popen.wait()


def _http_ready(proc: Proc) -> bool:
    if not proc.base and proc.port_file is not None and proc.port_file.exists():
        proc.base = f"http://127.0.0.1:{int(proc.port_file.read_text())}"
    if not proc.base:
        return False
    try:
        return httpx.get(f"{proc.base}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _worker_ready(proc: Proc) -> bool:
    return "registered worker" in proc.log()


def _jobs_ready(proc: Proc) -> bool:
    return " ready." in proc.log()


@dataclass
class Cluster:
    work: Path
    database_url: str
    redis_url: str  # voxa's store and the Celery broker (one Redis db)
    redis_prefix: str
    model_url: str
    nodes: list[ClusterNode] = field(default_factory=list)
    apis: list[Proc] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)
    jobs: list[Proc] = field(default_factory=list)
    extra: list[Proc] = field(default_factory=list)  # started by tests (replacements)

    def env(self, node: ClusterNode, data: Path, **more: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VOXA_", "LIVEKIT_"))}
        env.update(BENCH_LIMITS)
        data.mkdir(parents=True, exist_ok=True)
        env.update({
            "VOXA_ENV": "test", "VOXA_DATA_DIR": str(data), "VOXA_LOG_LEVEL": "INFO",
            "VOXA_DATABASE_URL": self.database_url, "VOXA_REDIS_URL": self.redis_url,
            "VOXA_REDIS_PREFIX": self.redis_prefix, "VOXA_SECRET_KEY": SECRET_KEY,
            "VOXA_LLM": "openai:recording", "VOXA_LLM_BASE_URL": self.model_url,
            "LIVEKIT_URL": node.endpoint.url, "LIVEKIT_API_KEY": node.api_key,
            "LIVEKIT_API_SECRET": node.api_secret,
            "VOXA_AGENT_HEARTBEAT_SECONDS": "2", "VOXA_TURN_LEASE_SECONDS": "3",
            "VOXA_VOICE_SILENCE_SECONDS": "900", "VOXA_WORKER_IDLE_PROCESSES": "1",
            "VOXA_WORKER_DRAIN_SECONDS": "120", "VOXA_API_DRAIN_SECONDS": "60",
            **more})
        return env

    def api(self, name: str, node: ClusterNode) -> Proc:
        port_file = self.work / f"{name}.port"
        proc = Proc(name, [sys.executable, "-m", "voxa.cli", "serve", "--no-voice",
                           "--port", "0", "--port-file", str(port_file)],
                    self.env(node, self.work / name), self.work / f"{name}.log", _http_ready,
                    port_file=port_file)
        proc.start()
        return proc

    def worker(self, name: str, node: ClusterNode) -> Proc:
        proc = Proc(name, [sys.executable, "-m", "voxa.cli", "worker"],
                    self.env(node, self.work / name), self.work / f"{name}.log", _worker_ready)
        proc.start()
        return proc

    def celery(self, name: str, node: ClusterNode) -> Proc:
        proc = Proc(name, [sys.executable, "-m", "voxa.cli", "jobs", "--concurrency", "1"],
                    self.env(node, self.work / name), self.work / f"{name}.log", _jobs_ready)
        proc.start()
        return proc

    def processes(self) -> list[Proc]:
        return [*self.apis, *self.workers, *self.jobs, *self.extra]

    def worker_of(self, pid: int) -> Proc | None:
        """The voice worker a job process descends from (jobs fork from a
        forkserver the worker started), or None."""
        workers = {w.pid: w for w in [*self.workers, *self.extra] if w.popen is not None}
        seen = 0
        while pid > 1 and seen < 10:
            if pid in workers:
                return workers[pid]
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                return None
            pid = int(re.search(r"^PPid:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]
            seen += 1
        return None


@contextlib.contextmanager
def cluster(work: Path, *, binary: Path, database_url: str, redis_url: str,
            model_url: str) -> Iterator[Cluster]:
    base = redis_url.rsplit("/", 1)[0]
    address = base.split("://", 1)[1]
    c = Cluster(work, database_url, f"{base}/5", f"cluster-{uuid.uuid4().hex[:8]}:", model_url)
    secret = uuid.uuid4().hex + uuid.uuid4().hex
    try:
        for i in (1, 2):
            node = ClusterNode(binary, work_dir=work / f"livekit-{i}", redis_address=address,
                               redis_db=4, secret=secret)
            c.nodes.append(node)
            node.start(wait_s=60)
        n1, n2 = c.nodes
        for name, node in (("api-a", n1), ("api-b", n2)):
            c.apis.append(c.api(name, node))
            c.apis[-1].wait_ready()  # one at a time: each migrates the database on start
        c.workers = [c.worker("worker-1", n1), c.worker("worker-2", n2)]
        c.jobs = [c.celery("jobs", n1)]
        for p in [*c.workers, *c.jobs]:
            p.wait_ready()
        yield c
    finally:
        for p in c.processes():
            p.stop()
        for node in c.nodes:
            node.stop()
        artifacts = Path(__file__).resolve().parents[2] / "test-artifacts" / "cluster"
        artifacts.mkdir(parents=True, exist_ok=True)
        for log in [*work.glob("*.log"), *work.glob("livekit-*/livekit-server.log")]:
            name = log.name if log.parent == work else f"{log.parent.name}.log"
            (artifacts / name).write_bytes(log.read_bytes())
