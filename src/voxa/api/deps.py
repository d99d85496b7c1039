"""FastAPI dependencies as ``Annotated`` aliases."""

from __future__ import annotations

import hmac
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Path, Request

from voxa.api import cookies
from voxa.auth import revocation
from voxa.auth.principal import AccountPrincipal, OperatorPrincipal, Principal
from voxa.errors import Forbidden, NotFound, Unauthenticated
from voxa.limits import client_address
from voxa.runtime import Runtime
from voxa.sessions.access import Access, load_session, tenant_scope
from voxa.sessions.ids import SESSION_ID_PATTERN
from voxa.storage.models import AgentSession, Business
from voxa.storage.repos import businesses as businesses_repo
from voxa.storage.tenancy import bind_db_scope
from voxa.tracing import span


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _bearer(header: str) -> str:
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        raise Unauthenticated("Authorization must be 'Bearer <token>'", code="invalid_token")
    return token


async def _verified(rt: Runtime, token: str) -> Principal:
    principal = rt.signer.verify(token)
    if isinstance(principal, AccountPrincipal):
        await revocation.check(rt, principal)
    return principal


async def _verified_principal(request: Request, rt: Runtime) -> Principal | None:
    """The caller from the ``Authorization`` header, else from the pages' session
    cookie (an account token only, and CSRF-checked on unsafe methods)."""
    header = request.headers.get("authorization")
    if header is not None:  # present but empty or malformed is refused, not ignored
        return await _verified(rt, _bearer(header))
    raw = cookies.read_session(request, rt.settings)
    if raw is None:
        return None
    try:
        principal = await _verified(rt, raw)
        if not isinstance(principal, AccountPrincipal) or principal.token is None:
            raise Unauthenticated("invalid session cookie", code="invalid_token")
    except Unauthenticated as exc:
        # A stale cookie grants nothing but must not break anonymous pages
        # (a customer chat in the same browser); endpoints that need a
        # principal report why.
        request.state.cookie_error = exc
        return None
    cookies.check_csrf(request, rt.signer, principal.token.jti)
    return replace(principal, token=replace(principal.token, via_cookie=True))


async def optional_principal(request: Request, rt: RuntimeDep) -> Principal | None:
    """The caller, if any; its tenant is bound for the request's database work
    (row-level security). Async on purpose: a binding made in a worker thread
    would not reach the endpoint."""
    with span("voxa.auth") as current:
        principal = await _verified_principal(request, rt)
        current.set_attribute("principal", type(principal).__name__ if principal else "anonymous")
    if principal is not None:
        bind_db_scope(tenant_scope(principal))
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def current_principal(request: Request, principal: OptionalPrincipal) -> Principal:
    if principal is None:
        stale: Unauthenticated | None = getattr(request.state, "cookie_error", None)
        raise stale or Unauthenticated("log in first: send a bearer token or the session cookie")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def current_account(principal: CurrentPrincipal) -> AccountPrincipal:
    if not isinstance(principal, AccountPrincipal) or principal.token is None:
        raise Forbidden("only an owner or general account may do this", code="not_an_account")
    return principal


CurrentAccount = Annotated[AccountPrincipal, Depends(current_account)]


def client_ip(request: Request, rt: RuntimeDep) -> str:
    """The client's address for limits (see ``voxa.limits.address``)."""
    return client_address(request, rt.settings.trusted_proxies)


ClientAddress = Annotated[str, Depends(client_ip)]


def operator_principal(principal: CurrentPrincipal) -> OperatorPrincipal:
    if not isinstance(principal, OperatorPrincipal):
        raise Forbidden("only the operator may do this", code="not_operator")
    return principal


Operator = Annotated[OperatorPrincipal, Depends(operator_principal)]

SessionIdPath = Annotated[str, Path(max_length=64, description=SESSION_ID_PATTERN)]


def _session_dep(access: Access):  # type: ignore[no-untyped-def]
    async def dep(
        session_id: SessionIdPath, rt: RuntimeDep, principal: OptionalPrincipal
    ) -> AgentSession:
        async with rt.db() as db:
            return await load_session(db, session_id, principal, access)

    return dep


readable_session = _session_dep(Access.READ)
endable_session = _session_dep(Access.END)
held_session = _session_dep(Access.HOLD)
ReadableSession = Annotated[AgentSession, Depends(readable_session)]
EndableSession = Annotated[AgentSession, Depends(endable_session)]
HeldSession = Annotated[AgentSession, Depends(held_session)]


async def owned_business(
    slug: Annotated[str, Path(max_length=64)], rt: RuntimeDep, principal: CurrentPrincipal
) -> Business:
    """The business at ``slug``, if the caller is one of its owners."""
    async with rt.db() as db:
        business = await businesses_repo.get_by_slug(db, slug)
    if not isinstance(principal, AccountPrincipal) or principal.kind != "owner":
        raise Forbidden("only the business's owners may do this", code="not_owner")
    if business is None or business.id != principal.business_id:
        # Other tenants' businesses look the same as unknown ones.
        raise NotFound("business not found", code="unknown_business")
    return business


OwnedBusiness = Annotated[Business, Depends(owned_business)]


def operator_gate(request: Request, rt: RuntimeDep) -> None:
    """``/metrics`` and ``/readyz``: only the operator token passes while
    ``protect_operator_endpoints`` is on (the default in production); credentials
    are not read otherwise."""
    settings = rt.settings
    if not settings.operator_endpoints_protected:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = settings.operator_token.get_secret_value() if settings.operator_token else ""
    # Bytes: a non-ASCII header must compare unequal, not raise.
    if not (expected and scheme.lower() == "bearer"
            and hmac.compare_digest(token.strip().encode(), expected.encode())):
        raise Unauthenticated("this endpoint needs the operator token", code="operator_only")


OperatorGate = Depends(operator_gate)
