"""Login and signup limits.

Failed logins count against the account (its normalized e-mail, whether or not
an account has it, so the lockout itself reveals nothing) and every attempt
against the client address. ``limit_login_per_account`` has tiers
(5/minute;10/hour;20/day): each one that fills locks the account until its
window frees, so continued failures lengthen the lockout; a success clears it.
A locked account is refused before its password is checked.
"""

from __future__ import annotations

from voxa.limits.keys import address_part, email_part
from voxa.limits.limiter import Limiter

_LOCKED = "too many login attempts; retry later"


async def before_login(limiter: Limiter, *, email: str, address: str) -> None:
    await limiter.check("login_per_account", email_part(email), message=_LOCKED)
    await limiter.hit("login_per_address", address_part(address), message=_LOCKED)


async def login_failed(limiter: Limiter, *, email: str) -> None:
    await limiter.record("login_per_account", email_part(email))


async def login_succeeded(limiter: Limiter, *, email: str) -> None:
    await limiter.clear("login_per_account", email_part(email))


async def before_signup(limiter: Limiter, *, address: str) -> None:
    await limiter.hit("signup_per_address", address_part(address),
                      message="too many signups from this address; retry later")
