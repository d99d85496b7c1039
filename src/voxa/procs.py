"""Child processes that must not outlive voxa (livekit-server, the model server)."""

from __future__ import annotations

import ctypes
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn`` for a child: Linux sends it SIGTERM when its parent exits,
    however the parent exits (even SIGKILL), so no orphan keeps ports or memory."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
