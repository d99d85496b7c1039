"""The OpenAPI description lists every status an operation can answer.

Error responses are derived here, once, from what each route's dependencies
can raise (credentials read, a session or business looked up, a body parsed)
plus a table of what the handlers themselves raise. Every error response
carries the one ``Error`` schema the handlers in ``voxa.api.errors`` send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from voxa.api import deps
from voxa.api.routes import (
    accounts,
    audio,
    auth,
    business_hours,
    businesses,
    handoff,
    knowledge,
    me,
    messages,
    operator,
    owner_events,
    search,
    sessions,
    takeover,
    webhooks,
)
from voxa.settings import Settings


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str = Field(description="stable machine-readable reason, e.g. session_not_found")
    message: str
    details: list[dict[str, Any]] | None = Field(
        default=None, description="validation errors (422 validation_error)")
    retry_after: int | None = Field(default=None, description="seconds (429, 503)")
    retryable: bool | None = Field(default=None, description="upstream errors (502, 503)")


class Error(BaseModel):
    error: ErrorDetail


_REASONS = {
    400: "The request is malformed for this operation (or its body is not text)",
    401: "Missing, malformed, invalid or expired credentials",
    403: "These credentials may not do this",
    404: "Not found (other tenants' resources look the same as unknown ones)",
    409: "Conflicts with existing data",
    410: "The session has ended or its resume window has passed",
    413: "The request body is over the size limit",
    422: "The request does not match the schema, or a value is out of range",
    429: "A limit was reached; retry after Retry-After seconds",
    502: "The model provider failed (not retryable)",
    503: "Temporarily unavailable (model queue full, provider down); retry after Retry-After",
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying",
                                "schema": {"type": "integer"}}}

# What a dependency can answer besides success.
_DEPENDENCY_ERRORS: dict[Callable[..., Any], frozenset[int]] = {
    deps.optional_principal: frozenset({401}),
    deps.current_principal: frozenset({401}),
    deps.readable_session: frozenset({400, 401, 404}),
    deps.endable_session: frozenset({400, 401, 404}),
    deps.held_session: frozenset({400, 401, 403, 404}),
    deps.owned_business: frozenset({401, 403, 404}),
    deps.current_account: frozenset({401, 403}),
    deps.operator_principal: frozenset({401, 403}),
}
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# What a handler raises itself. Limits (429) are on signup, login, session
# starts and messages; the shared model's waiting line (503) on messages.
_MESSAGE_ERRORS = frozenset({400, 409, 410, 429, 502, 503})
_HANDLER_ERRORS: dict[Callable[..., Any], frozenset[int]] = {
    accounts.create_business: frozenset({400, 403, 409, 429}),
    # 403: "cookie": true from another origin (csrf_failed).
    accounts.create_user: frozenset({403, 409, 429}),
    accounts.login: frozenset({401, 403, 429}),
    sessions.start_session: frozenset({400, 401, 403, 404, 429}),
    sessions.resume_session: frozenset({410}),
    sessions.patch_config: frozenset({400, 410}),
    messages.post_message: _MESSAGE_ERRORS,
    audio.get_message_audio: frozenset({404}),
    messages.stream_message: _MESSAGE_ERRORS,
    businesses.public_business: frozenset({404}),
    businesses.get_ticket: frozenset({404}),
    businesses.patch_ticket: frozenset({404}),
    businesses.get_agent_settings: frozenset({404}),
    businesses.patch_agent_settings: frozenset({400, 404}),
    auth.change_password: frozenset({403, 409, 429}),
    operator.get_limits: frozenset({404}),
    operator.patch_limits: frozenset({404}),
    knowledge.add_knowledge: frozenset({400, 409, 413, 429}),
    knowledge.get_knowledge: frozenset({404}),
    knowledge.put_knowledge: frozenset({400, 404, 413, 429}),
    knowledge.delete_knowledge: frozenset({404}),
    search.search_conversations: frozenset({400}),
    me.list_memories: frozenset({403}),
    me.delete_memories: frozenset({403, 404}),
    handoff.request_handoff: frozenset({400, 410}),
    owner_events.owner_events: frozenset({404, 429}),
    business_hours.get_hours: frozenset({404}),
    business_hours.put_hours: frozenset({404}),
    takeover.take_over: frozenset({400, 404, 410}),
    takeover.hand_back: frozenset({400, 404, 410}),
    takeover.owner_message: frozenset({400, 404, 409, 410}),
    takeover.join_call: frozenset({400, 404, 410, 503}),
    webhooks.create_webhook: frozenset({400, 409}),
    webhooks.delete_webhook: frozenset({404}),
    webhooks.list_deliveries: frozenset({404}),
    webhooks.resend_delivery: frozenset({404, 409}),
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _has_params(dependant: Dependant) -> bool:
    return bool(dependant.path_params or dependant.query_params or dependant.header_params
                or dependant.cookie_params or dependant.body_params
                or any(_has_params(sub) for sub in dependant.dependencies))


def error_statuses(route: APIRoute, settings: Settings) -> set[int]:
    """Every error status ``route`` can answer (500 aside)."""
    statuses: set[int] = set()
    for call in _calls(route.dependant):
        statuses |= _DEPENDENCY_ERRORS.get(call, frozenset())
        if call is deps.operator_gate and settings.operator_endpoints_protected:
            statuses.add(401)
        if call is deps.optional_principal and _UNSAFE & (route.methods or set()):
            # A request authenticated by the pages' cookie fails the CSRF checks.
            statuses.add(403)
    statuses |= _HANDLER_ERRORS.get(route.endpoint, frozenset())
    if route.body_field is not None:
        # BodyLimitMiddleware; bytes that are not text (FastAPI: 400); JSON that
        # does not parse or validate.
        statuses |= {400, 413, 422}
    if _has_params(route.dependant):
        statuses.add(422)
    return statuses


def _hoist(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    return schema


def describe(app: FastAPI, settings: Settings, api_routes: Iterable[APIRoute]
             ) -> dict[str, Any]:
    """``app``'s OpenAPI description with every error response of ``api_routes``
    (the routes of the routers ``app`` includes) listed."""
    spec = get_openapi(title=app.title, version=app.version, routes=app.routes,
                       description=app.description)
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = _hoist(
        Error.model_json_schema(ref_template="#/components/schemas/{model}"), components)
    error_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for route in api_routes:
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            op = spec["paths"][route.path_format][method.lower()]
            responses = op.setdefault("responses", {})
            for status in sorted(error_statuses(route, settings)):
                key = str(status)
                declared = route.responses.get(status) or route.responses.get(key)
                if declared is not None:
                    continue  # the route documents this status itself
                responses[key] = {"description": _REASONS[status], "content": error_ref}
                if status in (429, 503):
                    responses[key]["headers"] = _RETRY_AFTER
            op["responses"] = dict(sorted(responses.items()))
    # FastAPI's own 422 shape is never sent: the handler answers with Error.
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    _add_session_links(spec)
    return spec


def _add_session_links(spec: dict[str, Any]) -> None:
    """Links from a session start to every operation on that session, so
    stateful clients (and schemathesis) can follow ``session_id``."""
    start = spec["paths"].get("/v1/sessions", {}).get("post")
    if start is None:
        return
    links: dict[str, Any] = {}
    for path, ops in spec["paths"].items():
        if not path.startswith("/v1/sessions/{session_id}"):
            continue
        for op in ops.values():
            op_id = op["operationId"]
            links[op_id] = {"operationId": op_id,
                            "parameters": {"session_id": "$response.body#/session_id"}}
    start["responses"]["201"]["links"] = links


def install_openapi(app: FastAPI, settings: Settings, api_routes: Iterable[APIRoute]) -> None:
    """Serve :func:`describe` as ``/openapi.json`` (built once, then cached)."""
    routes = list(api_routes)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(app, settings, routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
