"""Shared benchmark plumbing: a real `voxa serve` on loopback, percentiles,
output."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.storage.models import AgentConfig, Business


@dataclass(frozen=True)
class Backend:
    name: str  # "sqlite+memory" | "postgres+redis"
    database_url: str | None
    redis_url: str | None

    @classmethod
    def choose(cls, name: str, data_dir: Path) -> Backend:
        if name == "sqlite":
            return cls("sqlite+memory", f"sqlite+aiosqlite:///{data_dir / 'voxa.db'}", None)
        pg = os.environ.get("VOXA_BENCH_POSTGRES_URL") or os.environ.get("VOXA_TEST_POSTGRES_URL")
        redis = os.environ.get("VOXA_BENCH_REDIS_URL") or os.environ.get("VOXA_TEST_REDIS_URL")
        if not (pg and redis):
            raise SystemExit("--backend postgres needs VOXA_BENCH_POSTGRES_URL and "
                             "VOXA_BENCH_REDIS_URL (or the VOXA_TEST_* ones)")
        return cls("postgres+redis", pg, redis)


async def seed_business(db: AsyncSession, prefix: str) -> tuple[Business, AgentConfig]:
    """A business and its default agent written straight to the database
    (for benchmarks that time the storage layer, not signup)."""
    business = Business(slug=f"{prefix}-{uuid.uuid4().hex[:6]}", name=prefix.title())
    db.add(business)
    await db.flush()
    agent = AgentConfig(business_id=business.id, name="assistant", is_default=True)
    db.add(agent)
    await db.flush()
    return business, agent


# The benchmarks drive one server from one address as hard as it goes, which
# the default per-address and per-business limits refuse by design. They raise
# them here, for the benchmark's server only, so what is measured is the
# platform; the limits stay on (and their checks stay in every request path).
BENCH_LIMITS = {
    "VOXA_LIMIT_SIGNUP_PER_ADDRESS": "100000/hour",
    "VOXA_LIMIT_LOGIN_PER_ADDRESS": "100000/minute",
    "VOXA_LIMIT_SESSION_STARTS_PER_ADDRESS": "1000000/minute",
    "VOXA_LIMIT_SESSION_STARTS_PER_BUSINESS": "1000000/minute",
    "VOXA_LIMIT_TURNS_PER_SESSION": "100000/minute",
    "VOXA_LIMIT_TURNS_PER_CUSTOMER": "100000/minute",
    "VOXA_LIMIT_ACTIVE_SESSIONS_PER_BUSINESS": "100000",
    "VOXA_LIMIT_MODEL_SLOTS_TOTAL": "4096",
    "VOXA_LIMIT_MODEL_SLOTS_PER_BUSINESS": "4096",
}


@dataclass
class Server:
    base: str
    pid: int
    data_dir: Path


@contextmanager
def serve(backend: Backend, data_dir: Path, *, voice: bool = False,
          extra_env: dict[str, str] | None = None, log_level: str = "WARNING",
          start_timeout: float = 120, workers: int = 1) -> Iterator[Server]:
    """`voxa serve` (by default with the scripted instant model) on a loopback
    port it binds itself (``--port 0``: no port is chosen free and then
    released for someone else to take), ready (and, with ``voice``, its worker
    registered) on entry, stopped on exit. Its output goes to
    ``data_dir/serve.log``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOXA_", "LIVEKIT_"))}
    # Stopping waits for calls still in progress (the worker's drain): bounded
    # here well inside the 60 s this harness gives a stop, unless asked otherwise.
    env.update({"VOXA_DATA_DIR": str(data_dir), "VOXA_LLM": "scripted", "VOXA_ENV": "test",
                "VOXA_LOG_LEVEL": log_level, "VOXA_WORKER_DRAIN_SECONDS": "20",
                **(extra_env or {})})
    if backend.database_url:
        env["VOXA_DATABASE_URL"] = backend.database_url
    if backend.redis_url:
        env["VOXA_REDIS_URL"] = backend.redis_url
        # Servers sharing one Redis (tests, benchmarks) count their limits apart
        # unless the caller gives them one prefix on purpose (replica tests).
        env.setdefault("VOXA_REDIS_PREFIX", f"serve-{uuid.uuid4().hex[:8]}:")
    port_file = data_dir / "serve.port"
    port_file.unlink(missing_ok=True)
    args = [sys.executable, "-m", "voxa.cli", "serve", "--port", "0", "--port-file",
            str(port_file), "--workers", str(workers)]
    if not voice:
        args.append("--no-voice")
    log_path = data_dir / "serve.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = ""
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(log_path.read_text(errors="replace")[-3000:])
            if not base and port_file.exists():
                base = f"http://127.0.0.1:{int(port_file.read_text())}"
            try:
                ready = bool(base) and httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready and (not voice or "registered worker" in log_path.read_text(
                    errors="replace")):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("voxa serve did not start:\n"
                                   + log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        yield Server(base, proc.pid, data_dir)
    finally:
        with contextlib.suppress(ProcessLookupError):  # a test may have stopped it already
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@contextmanager
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="voxa-bench-") as d:
        yield Path(d)


def min_samples(p: float) -> int:
    """Samples a p-th percentile needs to be more than the largest value seen
    (p95: 20, p99: 100); the median needs 1."""
    return 1 if p <= 50 else math.ceil(1 / (1 - p / 100) - 1e-9)


def pct(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile, or None when there are too few samples to support
    it (``min_samples``): no "p95" from 6 samples."""
    if len(values) < min_samples(p):
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def rounded(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else round(a / b, 2)


def summary_ms(latencies_s: Sequence[float]) -> dict[str, float | int | None]:
    """Median, p99 (None below ``min_samples(99)``), max and mean in ms, with n."""
    ms = [x * 1000 for x in latencies_s]
    return {"n": len(ms), "p50_ms": rounded(pct(ms, 50)), "p99_ms": rounded(pct(ms, 99)),
            "max_ms": rounded(max(ms)) if ms else None,
            "mean_ms": round(statistics.fmean(ms), 2) if ms else None}


def rss_mib(pid: int) -> float:
    """Resident memory of one process (MiB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def uss_mib(pid: int) -> float:
    """Memory unique to one process (MiB): what it costs beyond pages it shares
    with its parent (job processes fork from a prewarmed server)."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total / 1024


# The results of the runs `voxa bench --runs N` repeats (None: not collecting).
RESULTS: ContextVar[list[dict[str, Any]] | None] = ContextVar("bench_results", default=None)


def report(name: str, result: dict[str, Any], rows: list[list[Any]], header: list[str]) -> None:
    """One JSON line (machine) and a table (human), on stdout."""
    collected = RESULTS.get()
    if collected is not None:
        collected.append(result)
    sys.stdout.write(json.dumps({"bench": name, **result}, default=str) + "\n")
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True))
    sys.stdout.write(line + "\n" + "  ".join("-" * w for w in widths) + "\n")
    for r in rows:
        sys.stdout.write("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + "\n")
    sys.stdout.flush()
