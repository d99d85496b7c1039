"""`voxa bench <name> [--runs N]`."""

from __future__ import annotations

import asyncio
import importlib
import statistics
import sys
from typing import Any

from voxa.bench.common import RESULTS, report
from voxa.storage.scope import Scope
from voxa.storage.tenancy import db_scope

NAMES = ("sessions", "turns", "isolation", "memory", "history", "voice", "search", "speech")
# Figures that count what went wrong: over several runs they are added up (a
# failure in one run is never hidden by the median of the others).
COUNTS = ("errors", "failed", "crossings", "total_crossings", "missed_replies",
          "warm_up_failed")


def run(name: str, *, backend: str, quick: bool, llm: str = "scripted", runs: int = 1,
        workers: int = 1) -> int:
    if name == "turns" and workers > 1:
        name = "workers"  # --workers 1 against --workers N, one run
    module = importlib.import_module(f"voxa.bench.{name}")
    results: list[dict[str, Any]] = []
    token = RESULTS.set(results)
    found_total = 0
    try:
        for _ in range(runs):
            # the bench seeds and inspects every tenant's rows directly, as the
            # operator; what it drives through HTTP binds each caller's tenant
            with db_scope(Scope.system()):
                found: object = None
                if name == "voice":
                    asyncio.run(module.run(backend, quick, llm=llm))
                elif name == "workers":
                    asyncio.run(module.run(backend, quick, workers=workers))
                else:
                    found = asyncio.run(module.run(backend, quick))
            # a bench that checks something (isolation) returns what it found wrong
            if isinstance(found, int):
                found_total += found
    finally:
        RESULTS.reset(token)
    if runs > 1:
        report_runs(name, results)
    return 1 if found_total else 0


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out |= _leaves(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    return {prefix: value}


def _is_count(path: str) -> bool:
    parts = path.split(".")
    return any(p in COUNTS for p in parts)


def combine(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per figure over the runs: the median (counts: the sum), min, max and n."""
    leaves = [_leaves(r) for r in results]
    out: dict[str, dict[str, Any]] = {}
    for path in leaves[0]:
        values = [lv.get(path) for lv in leaves]
        if _is_count(path):
            numbers = [len(v) if isinstance(v, list) else int(bool(v)) if isinstance(v, str)
                       else (v or 0) for v in values]
            out[path] = {"sum": sum(numbers), "runs": len(values)}
            continue
        nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)
                and v == v]
        if not nums:
            continue
        out[path] = {"median": round(statistics.median(nums), 3), "min": min(nums),
                     "max": max(nums), "runs": len(nums)}
    return out


def report_runs(name: str, results: list[dict[str, Any]]) -> None:
    if not results:
        sys.stdout.write(f"{name}: no run completed\n")
        return
    combined = combine(results)
    rows = [[path, v.get("median", v.get("sum")), v.get("min", ""), v.get("max", ""),
             ("sum of " if "sum" in v else "median of ") + str(v["runs"])]
            for path, v in combined.items()]
    report(f"{name} (over {len(results)} runs)", {"runs": len(results), "figures": combined},
           rows, ["figure", "value", "min", "max", "over"])
