"""The OpenAPI description lists each operation's error statuses, all with
the one Error schema, and only where they can happen (issue 10 part 8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from voxa.api.app import create_app
from voxa.settings import Environment, Settings


def _spec(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    settings = Settings(env=Environment.test, data_dir=tmp_path, secret_key=SecretStr("k" * 40),
                        **overrides)
    return create_app(settings).openapi()


def _codes(spec: dict[str, Any], method: str, path: str) -> set[str]:
    return set(spec["paths"][path][method]["responses"])


def test_every_error_response_uses_the_error_schema(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    count = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for code, response in op["responses"].items():
                if int(code) < 400 or (path, code) == ("/readyz", "503"):
                    continue
                count += 1
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, code)
                if code in ("429", "503"):
                    assert "Retry-After" in response["headers"]
    assert count > 80


@pytest.mark.parametrize("method,path,expected", [
    ("get", "/healthz", {"200"}),
    ("get", "/v1/voices", {"200"}),
    ("get", "/v1/businesses/{slug}/public", {"200", "404", "422"}),
    ("post", "/v1/auth/login", {"200", "400", "401", "403", "413", "422", "429"}),
    ("post", "/v1/users", {"201", "400", "403", "409", "413", "422", "429"}),
    ("post", "/v1/sessions", {"201", "400", "401", "403", "404", "413", "422", "429"}),
    ("get", "/v1/sessions/{session_id}", {"200", "400", "401", "404", "422"}),
    ("post", "/v1/sessions/{session_id}/messages",
     {"200", "400", "401", "403", "404", "410", "413", "422", "429", "502", "503"}),
    ("get", "/v1/businesses/{slug}/stats", {"200", "401", "403", "404", "422"}),
    ("get", "/v1/me/memories", {"200", "401", "403"}),
])
def test_statuses_follow_what_the_operation_can_do(
    tmp_path: Path, method: str, path: str, expected: set[str]
) -> None:
    assert _codes(_spec(tmp_path), method, path) == expected


def test_operator_endpoints_document_401_only_when_protected(tmp_path: Path) -> None:
    open_ = _spec(tmp_path, protect_operator_endpoints=False)
    assert _codes(open_, "get", "/metrics") == {"200"}
    shut = _spec(tmp_path, protect_operator_endpoints=True, operator_token=SecretStr("o" * 40))
    assert _codes(shut, "get", "/metrics") == {"200", "401"}
    assert _codes(shut, "get", "/readyz") == {"200", "401", "503"}


def test_session_start_links_to_session_operations(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    links = spec["paths"]["/v1/sessions"]["post"]["responses"]["201"]["links"]
    session_ops = {op["operationId"] for path, ops in spec["paths"].items()
                   if path.startswith("/v1/sessions/{session_id}") for op in ops.values()}
    assert set(links) == session_ops and len(session_ops) >= 8
    assert all(link["parameters"] == {"session_id": "$response.body#/session_id"}
               for link in links.values())
