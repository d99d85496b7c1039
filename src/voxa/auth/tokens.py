"""Signed tokens (HS256 JWT): account tokens and per-session tokens.

The ``typ`` claim keeps the two apart; the audience pins them to voxa so a
LiveKit token signed with another key can never be confused with them.
Account tokens also carry a ``jti`` (so one token can be revoked) and the
profile's ``token_version`` as ``ver`` (so all of an account's tokens can be);
``voxa.auth.revocation`` checks both on use.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from voxa.auth.principal import (
    AccountPrincipal,
    AccountToken,
    OperatorPrincipal,
    Principal,
    PrincipalKind,
    SessionPrincipal,
)
from voxa.domain import Role
from voxa.errors import Unauthenticated
from voxa.storage.types import utcnow

_AUDIENCE = "voxa"
_ALG = "HS256"
# Real tokens are a few hundred characters; anything far longer is not one.
MAX_TOKEN_CHARS = 4096


@dataclass(frozen=True, slots=True)
class IssuedToken:
    value: str
    jti: str
    expires_at: int  # unix seconds


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class TokenSigner:
    def __init__(self, key: str, *, operator_token: str | None = None) -> None:
        self._key = key
        self._operator_token = operator_token

    def __repr__(self) -> str:
        return "TokenSigner(key=***)"

    def _encode(self, claims: dict[str, object], expires_at: datetime) -> str:
        now = utcnow()
        payload = {
            **claims,
            "aud": _AUDIENCE,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        return jwt.encode(payload, self._key, algorithm=_ALG)

    def account_token(
        self,
        *,
        user_id: str,
        kind: PrincipalKind,
        business_id: str | None,
        version: int,
        ttl: timedelta,
    ) -> IssuedToken:
        jti = secrets.token_urlsafe(16)
        expires_at = utcnow() + ttl
        value = self._encode(
            {"typ": "account", "sub": user_id, "kind": str(kind), "bid": business_id,
             "ver": version, "jti": jti},
            expires_at,
        )
        return IssuedToken(value=value, jti=jti, expires_at=int(expires_at.timestamp()))

    def session_token(
        self,
        *,
        session_id: str,
        user_id: str,
        role: Role,
        business_id: str | None,
        expires_at: datetime,
    ) -> str:
        return self._encode(
            {"typ": "session", "sid": session_id, "sub": user_id, "role": role, "bid": business_id},
            expires_at,
        )

    def mac(self, purpose: str, message: str) -> bytes:
        """A keyed digest of ``message`` for ``purpose`` (e.g. CSRF tokens)."""
        return hmac.new(_bytes(self._key), _bytes(f"{purpose}\x00{message}"), "sha256").digest()

    def verify(self, token: str) -> Principal:
        """Decode a token into a principal (signature, audience and expiry only:
        revocation is checked by ``voxa.auth.revocation``); raise ``Unauthenticated``."""
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthenticated("invalid token", code="invalid_token")
        if self._operator_token and hmac.compare_digest(
            _bytes(token), _bytes(self._operator_token)
        ):
            return OperatorPrincipal()
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[_ALG],
                audience=_AUDIENCE,
                options={"require": ["exp", "typ", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token has expired", code="token_expired") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthenticated("invalid token", code="invalid_token") from exc
        typ = claims.get("typ")
        if typ == "account":
            return _account_principal(claims)
        if (typ == "session" and isinstance(claims.get("sid"), str)
                and claims.get("role") in tuple(Role)):
            return SessionPrincipal(
                session_id=claims["sid"],
                user_id=str(claims["sub"]),
                role=Role(claims["role"]),
                business_id=claims.get("bid"),
            )
        raise Unauthenticated("invalid token", code="invalid_token")


def _account_principal(claims: dict[str, object]) -> AccountPrincipal:
    kind, jti, ver = claims.get("kind"), claims.get("jti"), claims.get("ver")
    bid, exp = claims.get("bid"), claims.get("exp")
    # Tokens from before revocation existed carry no jti/ver: they cannot be
    # revoked, so they are not accepted.
    if (
        kind not in tuple(PrincipalKind)
        or not isinstance(jti, str)
        or not isinstance(ver, int)
        or isinstance(ver, bool)
        or not (bid is None or isinstance(bid, str))
        or not isinstance(exp, int | float)
    ):
        raise Unauthenticated("invalid token", code="invalid_token")
    return AccountPrincipal(
        user_id=str(claims["sub"]),
        kind=PrincipalKind(str(kind)),
        business_id=bid,
        token=AccountToken(jti=jti, version=ver, expires_at=int(exp)),
    )
