"""Schemathesis over the real server's ``/openapi.json`` (issue 10 part 8).

A real ``voxa serve`` (scripted model) on each backend; every operation is
fuzzed with positive and negative data as five callers (anonymous; an owner, a
general user and a customer session holder, each also bound to their own
business slug / session id so the deep paths run; and the owner on generated
ids), then stateful runs follow the description's links from a session start.
Checks: no 5xx, responses match their schema, no undocumented status code,
documented content types. Bounded and derandomized; the counts are written to
``test-artifacts/fuzz-<backend>.json``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, REDIS_URL, _pg_admin
from voxa.bench.common import Backend, serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}
STATEFUL_EXAMPLES = 15
BUDGET_SECONDS = 360  # per backend (45-150 s measured); fail rather than drag on


@dataclass
class Caller:
    name: str
    headers: dict[str, str] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)  # fixed path parameters


@dataclass
class Report:
    operations: set[str] = field(default_factory=set)
    cases: int = 0
    stateful_steps: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def record(self, status: int) -> None:
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1

    def fail(self, who: str, case: Any, exc: BaseException) -> None:
        found = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
        for f in found:
            self.failures.append({"caller": who, "operation": case.operation.label,
                                  "check": type(f).__name__, "detail": str(f)[:600],
                                  "request": case.as_curl_command()[:1000]})


BACKEND_PARAMS = [pytest.param("sqlite+memory", id="sqlite+memory")]
if PG_URL and REDIS_URL:
    BACKEND_PARAMS.append(pytest.param("postgres+redis", id="postgres+redis",
                                       marks=[pytest.mark.postgres, pytest.mark.redis]))


@pytest.fixture(params=BACKEND_PARAMS)
def server(request: pytest.FixtureRequest, tmp_path: Path, pg_template: str | None
           ) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite+memory":
        backend = Backend("sqlite+memory", None, None)
        db_name = None
    else:
        assert PG_URL and REDIS_URL and pg_template
        db_name = f"voxa_fz_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_admin(f"CREATE DATABASE {db_name} TEMPLATE {pg_template}"))
        url = make_url(PG_URL).set(database=db_name).render_as_string(hide_password=False)
        backend = Backend("postgres+redis", url, REDIS_URL)
    try:
        # the owner's SSE stream ends quickly, so its fuzz calls finish
        env = {"VOXA_DOCS": "true", "VOXA_OWNER_EVENTS_MAX_SECONDS": "1"}
        with serve(backend, tmp_path / "data", extra_env=env) as s:
            yield s.base, request.param
    finally:
        if db_name:
            asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))


def _callers(base: str) -> list[Caller]:
    """Real credentials: a business and its owner, a general user, a customer."""
    with httpx.Client(base_url=base, timeout=30) as c:
        owner = c.post("/v1/businesses", json={
            "name": "Fuzz Co", "slug": "fuzz-co",
            "owner": {"email": "owner@fuzz.example.com", "name": "Owner",
                      "password": "correct horse battery"}}).json()
        general = c.post("/v1/users", json={"email": "gene@fuzz.example.com", "name": "Gene",
                                            "password": "correct horse battery"}).json()

        def start(body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            r = c.post("/v1/sessions", json=body, headers=headers)
            assert r.status_code == 201, r.text
            return dict(r.json())

        owner_s = start({"role": "owner"}, owner["token"])
        general_s = start({"role": "general"}, general["token"])
        customer_s = start({"role": "customer", "business": "fuzz-co"})

    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return [
        Caller("anonymous"),
        Caller("owner", auth(owner["token"]),
               {"slug": "fuzz-co", "session_id": owner_s["session_id"]}),
        Caller("owner-generated-ids", auth(owner["token"])),
        Caller("general", auth(general["token"]), {"session_id": general_s["session_id"]}),
        Caller("customer", auth(customer_s["session_token"]),
               {"slug": "fuzz-co", "session_id": customer_s["session_id"]}),
    ]


# These revoke the caller's own credential (logout) or all of the account's
# (logout-all, a password change): fuzzed after everything else, or the shared
# callers' later cases would all be answered 401.
REVOKING = frozenset({"/v1/auth/logout", "/v1/auth/logout-all", "/v1/auth/password"})


def _operations(schema: Any, *, revoking: bool) -> list[Any]:
    ops = [result.ok() for result in schema.get_all_operations()]
    ops = [op for op in ops if (op.path in REVOKING) == revoking]
    # Ending a session last keeps the other session operations on a live one.
    return sorted(ops, key=lambda op: op.path.endswith("/end"))


def _fuzz(schema: Any, base: str, callers: list[Caller], report: Report, deadline: float,
          *, revoking: bool = False) -> None:
    for caller in callers:
        for op in _operations(schema, revoking=revoking):
            report.operations.add(op.label)
            fixed = {k: v for k, v in caller.paths.items()
                     if any(p.name == k for p in op.path_parameters)}
            for mode, examples in EXAMPLES.items():
                if time.monotonic() > deadline:
                    pytest.fail(f"fuzzing took over {BUDGET_SECONDS} s")

                _fuzz_operation(op, mode, examples, base, caller, fixed, report)


def _fuzz_operation(op: Any, mode: GenerationMode, examples: int, base: str, caller: Caller,
                    fixed: dict[str, str], report: Report) -> None:
    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(mode, path_parameters=fixed or None))
    def run(case: Any) -> None:
        report.cases += 1
        try:
            response = case.call(base_url=base, headers=caller.headers, timeout=30)
            report.record(response.status_code)
            case.validate_response(response, checks=CHECKS, headers=caller.headers)
        except (Failure, FailureGroup) as exc:
            report.fail(caller.name, case, exc)

    try:
        run()
    except Unsatisfiable:
        # Negative mode on an operation without parameters or body: nothing to
        # make invalid, so no case exists.
        assert mode is GenerationMode.NEGATIVE, op.label


def _stateful(schema: Any, base: str, owner: Caller, report: Report) -> None:
    """Follow the links (session start → every operation on that session) as the owner."""

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": base, "headers": owner.headers, "timeout": 30}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            report.stateful_steps += 1
            report.record(response.status_code)
            try:
                case.validate_response(response, checks=CHECKS, headers=owner.headers)
            except (Failure, FailureGroup) as exc:
                report.fail("owner-stateful", case, exc)

    Machine.run(settings=settings(max_examples=STATEFUL_EXAMPLES, derandomize=True,
                                  deadline=None, database=None, stateful_step_count=6,
                                  suppress_health_check=list(HealthCheck)))


def test_openapi_fuzz(server: tuple[str, str]) -> None:
    base, backend = server
    callers = _callers(base)
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    report = Report()
    started = time.monotonic()
    _fuzz(schema, base, callers, report, started + BUDGET_SECONDS)
    _stateful(schema, base, callers[1], report)
    _fuzz(schema, base, callers, report, started + BUDGET_SECONDS, revoking=True)
    summary = {"backend": backend, "operations": len(report.operations), "cases": report.cases,
               "stateful_steps": report.stateful_steps, "statuses": report.statuses,
               "seconds": round(time.monotonic() - started, 1),
               "failures": len(report.failures), "failure_list": report.failures}
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"fuzz-{backend}.json").write_text(json.dumps(summary, indent=2))
    assert len(report.operations) >= 25
    assert report.cases > 1000 and report.stateful_steps > 0
    assert not report.failures, json.dumps(report.failures[:10], indent=2)
