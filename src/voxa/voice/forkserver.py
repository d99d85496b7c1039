"""Preloaded by the voice worker's forkserver (``preload_modules``): the
forkserver ignores SIGTERM.

Why: ``docker stop``, systemd and ``kill -TERM -<pgid>`` signal the whole
process group at once. livekit-agents' job and inference processes already
ignore SIGTERM and are stopped by the worker in order, but the forkserver that
forks them did not: it died first, the worker could no longer reach the exit
status of anything it had forked (every process reported "exit code 255"),
and shutting down the inference process failed ("Application shutdown
failed"). The forkserver still exits with the worker: it stops when its pipe
to the worker closes.

Importing this module anywhere else changes nothing.
"""

from __future__ import annotations

import signal
import sys


def _imported_by_forkserver() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if (frame.f_globals.get("__name__") == "multiprocessing.forkserver"
                and frame.f_code.co_name == "main"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


if _imported_by_forkserver():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
