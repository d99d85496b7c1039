"""`voxa speech` in a subprocess on a free port, for tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def speech_server(tmp: Path, *, replicas: int = 1, queue: int = 16,
                  key: str | None = None) -> Iterator[str]:
    """The server's OpenAI base URL (``http://127.0.0.1:<port>/v1``)."""
    port_file = tmp / "speech-port"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "VOXA_DATA_DIR": str(tmp / "data"),
           "VOXA_ENV": "test"}
    if key:
        env["VOXA_SPEECH_API_KEY"] = key
    log = tmp / "speech.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voxa.cli", "speech", "--port", "0", "--port-file",
             str(port_file), "--replicas", str(replicas), "--queue", str(queue)],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240  # loading Whisper and Piper on a busy machine
        while not port_file.exists():
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "voxa speech did not start"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port_file.read_text()}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
