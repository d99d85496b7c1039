"""FastAPI dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from voxa.auth.principal import AccountPrincipal, Principal
from voxa.errors import Forbidden, NotFound, Unauthenticated
from voxa.runtime import Runtime
from voxa.sessions.access import Access, load_session, tenant_scope
from voxa.sessions.ids import SESSION_ID_PATTERN
from voxa.storage.models import AgentSession, Business
from voxa.storage.repos import businesses as businesses_repo
from voxa.storage.tenancy import bind_db_scope


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _verified_principal(request: Request, rt: Runtime) -> Principal | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <token>'", code="invalid_token")
    return rt.signer.verify(token.strip())


async def optional_principal(request: Request, rt: RuntimeDep) -> Principal | None:
    """The caller, if any; its tenant is bound for the request's database work
    (row-level security). Async on purpose: a binding made in a worker thread
    would not reach the endpoint."""
    principal = _verified_principal(request, rt)
    if principal is not None:
        bind_db_scope(tenant_scope(principal))
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def current_principal(principal: OptionalPrincipal) -> Principal:
    if principal is None:
        raise Unauthenticated("this endpoint needs a bearer token")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]

SessionIdPath = Annotated[str, Path(max_length=64, description=SESSION_ID_PATTERN)]


def _session_dep(access: Access):  # type: ignore[no-untyped-def]
    async def dep(
        session_id: SessionIdPath, rt: RuntimeDep, principal: OptionalPrincipal
    ) -> AgentSession:
        async with rt.db() as db:
            return await load_session(db, session_id, principal, access)

    return dep


ReadableSession = Annotated[AgentSession, Depends(_session_dep(Access.READ))]
EndableSession = Annotated[AgentSession, Depends(_session_dep(Access.END))]
HeldSession = Annotated[AgentSession, Depends(_session_dep(Access.HOLD))]


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
