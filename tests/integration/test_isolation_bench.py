"""`voxa bench isolation --quick` on both backends: SQLite with the SQL-backed
store a default `voxa serve` uses, and PostgreSQL + Redis. It records every
prompt, tries foreign reads, and exits non-zero on any crossing."""

from __future__ import annotations

import pytest

from voxa.agent.recording_llm import RecordedPrompt, RecordingLLM
from voxa.bench import cli as bench_cli
from voxa.bench.isolation import Bench, Holder
from voxa.context import SessionContext


@pytest.mark.slow
def test_quick_isolation_bench_finds_no_crossing(backend: dict[str, str | None],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL the bench connects as the non-superuser application role
    (a fresh database from the migrated template), so row-level security binds."""
    name = "sqlite"
    if backend["database_url"] is not None:
        name = "postgres"
        monkeypatch.setenv("VOXA_BENCH_POSTGRES_URL", backend["database_url"])
        monkeypatch.setenv("VOXA_BENCH_REDIS_URL", str(backend["redis_url"]))
    assert bench_cli.run("isolation", backend=name, quick=True) == 0


def test_the_bench_counts_a_prompt_crossing() -> None:
    """The prompt check can fail: a marker of one holder in another's prompt counts."""
    a = Holder(0, "customer", "tok-a", 1.0, marker="zqaaaaaaaaaa", session_id="s-a")
    b = Holder(1, "customer", "tok-b", 1.1, marker="zqbbbbbbbbbb", session_id="s-b")
    bench = Bench(None, 2)  # type: ignore[arg-type]  # no request is made
    bench.holders = [a, b]
    model = RecordingLLM()
    ctx = SessionContext("s-a", "customer", "b1", "one", "u-a")
    model.prompts.append(RecordedPrompt(ctx, "", "zqaaaaaaaaaa and zqbbbbbbbbbb"))
    bench.prompts(model)
    assert bench.count["prompt"] == 1
