"""Batch work runs below the real-time audio path, on every thread."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import os, threading
    from voxa.procs import BATCH_NICENESS, lower_priority

    started, stop = threading.Event(), threading.Event()
    def worker():
        started.set(); stop.wait()
    t = threading.Thread(target=worker); t.start(); started.wait()
    lower_priority()
    lower_priority()  # idempotent: set, not added
    later = []
    t2 = threading.Thread(target=lambda: later.append(os.getpriority(os.PRIO_PROCESS, 0)))
    t2.start(); t2.join()
    # the main thread and the one that existed before (ended threads may linger
    # in /proc/self/task for a moment, so ask by id)
    tids = [threading.get_native_id(), t.native_id]
    print(sorted({os.getpriority(os.PRIO_PROCESS, tid) for tid in tids}), later,
          BATCH_NICENESS)
    stop.set(); t.join()
""")


def test_lower_priority_reaches_existing_and_new_threads() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[5]", "[5]", "5"], (out.stdout, out.stderr)
