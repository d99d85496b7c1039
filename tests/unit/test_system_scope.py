"""``Scope.system()`` (no tenant narrowing) appears only where the caller is the
operator or an operator job, never on a tenant's request path."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "voxa"

# module -> why it may see every tenant
ALLOWED = {
    "cli": "the operator's command line",
    "bench/cli": "the benchmarks' own set-up",
    "bench/history": "the benchmarks' own set-up",
    "eval/runner": "the evaluation harness seeds and reads its own businesses",
    "jobs/cleanup": "the cleanup job times out sessions of every tenant",
    "webhooks/sender": "the delivery runner sends every tenant's due deliveries",
    "api/routes/health": "operator metrics (behind the operator gate)",
    "sessions/access": "the operator principal's scope",
    "storage/tenancy": "binds the database scope for the jobs above",
    "voice/job": "a worker job learns its session's tenant from the dispatched room",
    "voice/transcript": "a worker job re-checks its own session's status",
}


def _users() -> set[str]:
    found = set()
    for path in SRC.rglob("*.py"):
        if re.search(r"Scope\.system\(\)", path.read_text(encoding="utf-8")):
            found.add(path.relative_to(SRC).with_suffix("").as_posix())
    return found - {"storage/scope"}


def test_system_scope_only_in_operator_jobs() -> None:
    assert _users() - ALLOWED.keys() == set(), "Scope.system() on a tenant's path"


def test_allow_list_is_not_stale() -> None:
    assert ALLOWED.keys() - _users() == set()
