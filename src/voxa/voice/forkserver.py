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

It also loads the knowledge embedding model once, for the job processes to
share (below). Importing this module anywhere else changes nothing.
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
    # The knowledge embedding model's weights (about 70 MB, read-only) are
    # loaded here once: every job process forked from here shares them
    # instead of loading a copy of its own for its call's first question.
    from voxa.settings import build_settings

    if build_settings().knowledge_embeddings:
        from voxa import embeddings

        embeddings.available()
