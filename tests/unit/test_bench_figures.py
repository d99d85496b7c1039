"""How `voxa bench` states its figures: percentiles only where the samples
support them, and over several runs the median of each figure with failures
added up, never dropped."""

from __future__ import annotations

from voxa.bench.cli import combine
from voxa.bench.common import min_samples, pct, summary_ms


def test_no_percentile_from_too_few_samples() -> None:
    assert (min_samples(50), min_samples(95), min_samples(99)) == (1, 20, 100)
    six = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert pct(six, 50) is not None and pct(six, 95) is None
    assert pct([float(i) for i in range(20)], 95) == 18.0
    s = summary_ms([0.001] * 6)
    assert s["n"] == 6 and s["p50_ms"] == 1.0 and s["p99_ms"] is None and s["max_ms"] == 1.0


def test_runs_combine_to_medians_and_summed_failures() -> None:
    runs = [{"backend": "x", "turns_per_s": 10.0, "crossings": {"prompt": 0, "reply": 0},
             "total_crossings": 0, "runs": {"sequential": {"failed": 0, "join_p50_ms": 400}}},
            {"backend": "x", "turns_per_s": 30.0, "crossings": {"prompt": 1, "reply": 0},
             "total_crossings": 1, "runs": {"sequential": {"failed": 2, "join_p50_ms": None}}},
            {"backend": "x", "turns_per_s": 20.0, "crossings": {"prompt": 0, "reply": 0},
             "total_crossings": 0, "runs": {"sequential": {"failed": 0, "join_p50_ms": 500}}}]
    out = combine(runs)
    assert out["turns_per_s"] == {"median": 20.0, "min": 10.0, "max": 30.0, "runs": 3}
    # one run's crossing or failure is not outvoted by the others
    assert out["crossings.prompt"] == {"sum": 1, "runs": 3}
    assert out["total_crossings"]["sum"] == 1
    assert out["runs.sequential.failed"]["sum"] == 2
    # a figure missing from one run is the median of the runs that have it, n stated
    assert out["runs.sequential.join_p50_ms"] == {"median": 450.0, "min": 400, "max": 500,
                                                   "runs": 2}
    assert "backend" not in out
