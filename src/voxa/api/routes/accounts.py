from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response, status

from voxa import accounts
from voxa.accounts import Account
from voxa.api import cookies
from voxa.api.deps import ClientAddress, OptionalPrincipal, RuntimeDep
from voxa.api.schemas import (
    AccountOut,
    BusinessCreate,
    BusinessOut,
    LoginIn,
    MeOut,
    UserCreate,
)
from voxa.auth.principal import OperatorPrincipal
from voxa.errors import Forbidden
from voxa.limits import login as login_limits
from voxa.runtime import Runtime
from voxa.settings import SignupMode

router = APIRouter(prefix="/v1", tags=["accounts"])

def me_out(account: Account) -> MeOut:
    p = account.profile
    business = (
        BusinessOut.model_validate(account.business, from_attributes=True)
        if account.business
        else None
    )
    return MeOut(kind=p.kind, user_id=p.id, name=p.display_name, email=p.email,
                 business=business)


def deliver(
    rt: Runtime, account: Account, request: Request, response: Response, *, cookie: bool
) -> AccountOut:
    """The account as JSON, with its fresh credential in the body (bearer) or
    as the HttpOnly session cookie (``cookie``; the body then has no token)."""
    issued = account.token
    if issued is not None and cookie:
        cookies.set_session(response, request, rt.settings, rt.signer, issued)
    return AccountOut(
        **dict(me_out(account)),
        token=issued.value if issued is not None and not cookie else None,
        expires_at=datetime.fromtimestamp(issued.expires_at, UTC) if issued else None,
    )


@router.post("/businesses", status_code=status.HTTP_201_CREATED, response_model=AccountOut)
async def create_business(
    body: BusinessCreate, request: Request, response: Response, rt: RuntimeDep,
    principal: OptionalPrincipal, address: ClientAddress,
) -> AccountOut:
    if body.cookie:
        cookies.check_origin(request)
    if rt.settings.signup is SignupMode.closed and not isinstance(principal, OperatorPrincipal):
        raise Forbidden("business signup is closed; ask the operator", code="signup_closed")
    if not isinstance(principal, OperatorPrincipal):
        await login_limits.before_signup(rt.limiter, address=address)
    account = await accounts.signup_business(
        rt,
        name=body.name,
        slug=body.slug,
        owner_email=str(body.owner.email),
        owner_name=body.owner.name,
        owner_password=body.owner.password,
    )
    return deliver(rt, account, request, response, cookie=body.cookie)


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=AccountOut)
async def create_user(
    body: UserCreate, request: Request, response: Response, rt: RuntimeDep,
    address: ClientAddress,
) -> AccountOut:
    if body.cookie:
        cookies.check_origin(request)
    await login_limits.before_signup(rt.limiter, address=address)
    account = await accounts.signup_general(
        rt, email=str(body.email), name=body.name, password=body.password
    )
    return deliver(rt, account, request, response, cookie=body.cookie)


@router.post("/auth/login", response_model=AccountOut)
async def login(
    body: LoginIn, request: Request, response: Response, rt: RuntimeDep,
    address: ClientAddress,
) -> AccountOut:
    """``cookie: true`` (the pages): sets the HttpOnly session cookie and the
    readable CSRF cookie, and returns no token; otherwise a bearer token."""
    if body.cookie:
        cookies.check_origin(request)
    account = await accounts.login(rt, email=str(body.email), password=body.password,
                                   address=address)
    return deliver(rt, account, request, response, cookie=body.cookie)
