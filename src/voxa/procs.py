"""Child processes that must not outlive voxa (livekit-server, the model server)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn`` for a child: Linux sends it SIGTERM when its parent exits,
    however the parent exits (even SIGKILL), so no orphan keeps ports or memory."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


# Batch work (the model server, Whisper and Piper) runs below the real-time audio
# path (job processes, livekit-server, the API): with both at the same priority,
# a burst of transcription on two cores starved the audio threads for long
# enough that speech reached the recognizer with gaps ("rocket" heard as "rock").
BATCH_NICENESS = 5


def lower_priority(niceness: int = BATCH_NICENESS) -> None:
    """Give every thread of this process (Linux priorities are per thread; new
    threads inherit their creator's) the batch niceness. Idempotent."""
    if not sys.platform.startswith("linux"):
        return
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(ProcessLookupError):  # a thread that just ended
            os.setpriority(os.PRIO_PROCESS, int(tid), niceness)


def batch_child() -> None:
    """``preexec_fn`` for a batch child: dies with its parent, runs below the audio path."""
    die_with_parent()
    lower_priority()


def stop_group(proc: subprocess.Popen[bytes], *, timeout: float) -> None:
    """SIGTERM a child's process group, SIGKILL it after ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
