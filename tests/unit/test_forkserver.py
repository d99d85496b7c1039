"""The voice worker's forkserver outlives a SIGTERM sent to the whole process
group (docker stop, systemd), so the worker can still stop its jobs in order."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import multiprocessing as mp, os, signal, sys, time
    from multiprocessing import forkserver

    import voxa.voice.forkserver  # imported here: must not touch this process
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

    if __name__ == "__main__":
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(sys.argv[1:])
        p = ctx.Process(target=os._exit, args=(3,)); p.start(); p.join()
        assert p.exitcode == 3, p.exitcode
        server = forkserver._forkserver._forkserver_pid
        os.kill(server, signal.SIGTERM)
        time.sleep(0.5)  # a forkserver that dies of it is gone by now
        p = ctx.Process(target=os._exit, args=(4,)); p.start(); p.join()
        print(p.exitcode, forkserver._forkserver._forkserver_pid == server)
""")


def run(*preload: str) -> str:
    out = subprocess.run([sys.executable, "-c", SCRIPT, *preload], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_the_worker_forkserver_ignores_sigterm() -> None:
    # same forkserver, and a process forked after the signal reports its status
    assert run("voxa.voice.forkserver") == "4 True"


def test_a_plain_forkserver_dies_of_it() -> None:
    # the failure the preload prevents: a new forkserver, the old one's children lost
    assert run() == "4 False"
