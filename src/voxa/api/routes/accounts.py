from __future__ import annotations

from fastapi import APIRouter, status

from voxa import accounts
from voxa.accounts import Account
from voxa.api.deps import ClientAddress, OptionalPrincipal, RuntimeDep
from voxa.api.schemas import AccountOut, BusinessCreate, BusinessOut, LoginIn, UserCreate
from voxa.auth.principal import OperatorPrincipal
from voxa.errors import Forbidden
from voxa.limits import login as login_limits
from voxa.settings import SignupMode

router = APIRouter(prefix="/v1", tags=["accounts"])


def _out(account: Account) -> AccountOut:
    p = account.profile
    business = (
        BusinessOut.model_validate(account.business, from_attributes=True)
        if account.business
        else None
    )
    return AccountOut(
        token=account.token,
        kind=p.kind,
        user_id=p.id,
        name=p.display_name,
        email=p.email,
        business=business,
    )


@router.post("/businesses", status_code=status.HTTP_201_CREATED, response_model=AccountOut)
async def create_business(
    body: BusinessCreate, rt: RuntimeDep, principal: OptionalPrincipal, address: ClientAddress
) -> AccountOut:
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
    return _out(account)


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=AccountOut)
async def create_user(body: UserCreate, rt: RuntimeDep, address: ClientAddress) -> AccountOut:
    await login_limits.before_signup(rt.limiter, address=address)
    account = await accounts.signup_general(
        rt, email=str(body.email), name=body.name, password=body.password
    )
    return _out(account)


@router.post("/auth/login", response_model=AccountOut)
async def login(body: LoginIn, rt: RuntimeDep, address: ClientAddress) -> AccountOut:
    return _out(await accounts.login(rt, email=str(body.email), password=body.password,
                                     address=address))
