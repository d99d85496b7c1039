"""Issue 10 part 7: the generated development secret is created 0600 and
atomically; two processes racing to create it both read the one key."""

from __future__ import annotations

import multiprocessing
import stat
from multiprocessing.synchronize import Barrier
from pathlib import Path

from voxa.settings import _dev_secret


def test_secret_file_is_private_and_stable(tmp_path: Path) -> None:
    key = _dev_secret(tmp_path / "data").get_secret_value()
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) >= 32
    assert _dev_secret(tmp_path / "data").get_secret_value() == key
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no leftovers


def test_an_old_readable_secret_file_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("k" * 64)
    path.chmod(0o644)
    assert _dev_secret(tmp_path).get_secret_value() == "k" * 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _race(barrier: Barrier, data_dir: str, out: str) -> None:
    barrier.wait()
    Path(out).write_text(_dev_secret(Path(data_dir)).get_secret_value())


def test_two_processes_racing_read_one_key(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    for round_ in range(15):
        data_dir = tmp_path / f"r{round_}"
        barrier = ctx.Barrier(2)
        outs = [tmp_path / f"r{round_}.{i}" for i in range(2)]
        procs = [ctx.Process(target=_race, args=(barrier, str(data_dir), str(o))) for o in outs]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        keys = {o.read_text() for o in outs}
        assert len(keys) == 1 and len(keys.pop()) >= 32
        assert (data_dir / "secret_key").read_text() == outs[0].read_text()
        assert stat.S_IMODE((data_dir / "secret_key").stat().st_mode) == 0o600
        assert [p.name for p in data_dir.iterdir()] == ["secret_key"]
