"""The ``voxa eval`` summary: a table (per role, per kind, failures) and one
JSON line with tasks done / total, per role, per kind and latency."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from voxa.eval.runner import ScenarioResult


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _tally(results: list[ScenarioResult], key: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"done": 0, "total": 0})
    for r in results:
        name = r.scenario.role if key == "role" else r.scenario.kind
        out[name]["total"] += 1
        out[name]["done"] += int(r.done)
    return dict(sorted(out.items()))


def summary(results: list[ScenarioResult], model: str) -> dict[str, Any]:
    ttft = [t for r in results for t in r.ttft_ms]
    turns = [t for r in results for t in r.turn_ms]
    adversarial = [r for r in results if r.scenario.adversarial]
    done = sum(r.done for r in results)
    return {
        "model": model, "done": done, "total": len(results),
        "score": round(done / len(results), 3) if results else 0.0,
        "per_role": _tally(results, "role"), "per_kind": _tally(results, "kind"),
        "adversarial": {"done": sum(r.done for r in adversarial), "total": len(adversarial)},
        "ttft_ms_p50": _pct(ttft, 0.5), "ttft_ms_p90": _pct(ttft, 0.9),
        "turn_ms_p50": _pct(turns, 0.5),
        "turn_ms_mean": round(statistics.fmean(turns), 1) if turns else None,
        "failed": [r.scenario.id for r in results if not r.done],
    }


def table(results: list[ScenarioResult], data: dict[str, Any], *, verbose: bool = False) -> str:
    lines = [f"voxa eval — model {data['model']}: {data['done']}/{data['total']} tasks done "
             f"({data['score']:.0%}); TTFT p50 {data['ttft_ms_p50']} ms, "
             f"p90 {data['ttft_ms_p90']} ms; turn p50 {data['turn_ms_p50']} ms", ""]
    lines.append(f"{'group':<28}{'done':>6}{'total':>7}{'share':>8}")
    for title, groups in (("role", data["per_role"]), ("kind", data["per_kind"])):
        for name, t in groups.items():
            share = t["done"] / t["total"] if t["total"] else 0.0
            lines.append(f"{title + ' ' + name:<28}{t['done']:>6}{t['total']:>7}{share:>8.0%}")
    adv = data["adversarial"]
    lines.append(f"{'adversarial (refusal only)':<28}{adv['done']:>6}{adv['total']:>7}")
    failed = [r for r in results if not r.done]
    if failed:
        lines += ["", "failed:"]
        for r in failed:
            why = r.error or "; ".join(r.failures)
            lines.append(f"  {r.scenario.id}: {why[:240]}")
            if verbose:
                lines += [f"      reply: {reply[:200]!r}" for reply in r.replies]
    return "\n".join(lines)
