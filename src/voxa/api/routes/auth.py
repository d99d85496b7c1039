"""Who am I, logout, log out everywhere, password change.

Each works with a bearer token or the pages' session cookie (then with the
CSRF header, like every unsafe cookie-authenticated request).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from voxa import accounts
from voxa.api import cookies
from voxa.api.deps import ClientAddress, CurrentAccount, RuntimeDep
from voxa.api.routes.accounts import deliver, me_out
from voxa.api.schemas import AccountOut, MeOut, PasswordChange
from voxa.auth import revocation

router = APIRouter(prefix="/v1", tags=["auth"])

@router.get("/me", response_model=MeOut)
async def me(principal: CurrentAccount, rt: RuntimeDep) -> MeOut:
    """The logged-in account (how the pages learn who is logged in)."""
    return me_out(await accounts.load(rt, principal))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: CurrentAccount, request: Request, rt: RuntimeDep) -> Response:
    """Revoke the credential of this request (other sessions stay) and clear the cookies."""
    assert principal.token is not None  # CurrentAccount guarantees it
    await revocation.revoke_token(rt, principal.token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    cookies.clear_session(response, request, rt.settings)
    return response


@router.post("/auth/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(principal: CurrentAccount, request: Request, rt: RuntimeDep) -> Response:
    """Revoke every token and cookie session of this account, on every device."""
    await accounts.logout_everywhere(rt, principal)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    cookies.clear_session(response, request, rt.settings)
    return response


@router.post("/auth/password", response_model=AccountOut)
async def change_password(
    body: PasswordChange, principal: CurrentAccount, request: Request, response: Response,
    rt: RuntimeDep, address: ClientAddress,
) -> AccountOut:
    """Change the password (403 ``wrong_password`` if ``current_password`` is
    wrong), revoke every existing token, and hand the caller a fresh one: as the
    session cookie when the caller used the cookie, else in the body."""
    assert principal.token is not None
    account = await accounts.change_password(
        rt, principal, current=body.current_password, new=body.new_password, address=address
    )
    return deliver(rt, account, request, response, cookie=principal.token.via_cookie)
