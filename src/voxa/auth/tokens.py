"""Signed tokens (HS256 JWT): account bearer tokens and per-session tokens.

The ``typ`` claim keeps the two apart; the audience pins them to voxa so a
LiveKit token signed with another key can never be confused with them.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

import jwt

from voxa.auth.principal import (
    AccountPrincipal,
    OperatorPrincipal,
    Principal,
    PrincipalKind,
    SessionPrincipal,
)
from voxa.errors import Unauthenticated
from voxa.storage.types import utcnow

_AUDIENCE = "voxa"
_ALG = "HS256"


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
        self, *, user_id: str, kind: PrincipalKind, business_id: str | None, ttl: timedelta
    ) -> str:
        return self._encode(
            {"typ": "account", "sub": user_id, "kind": str(kind), "bid": business_id},
            utcnow() + ttl,
        )

    def session_token(
        self,
        *,
        session_id: str,
        user_id: str,
        role: str,
        business_id: str | None,
        expires_at: datetime,
    ) -> str:
        return self._encode(
            {"typ": "session", "sid": session_id, "sub": user_id, "role": role, "bid": business_id},
            expires_at,
        )

    def verify(self, token: str) -> Principal:
        """Decode a bearer token into a principal; raise ``Unauthenticated``."""
        if self._operator_token and hmac.compare_digest(token, self._operator_token):
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
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid token", code="invalid_token") from exc
        typ = claims.get("typ")
        if typ == "account" and claims.get("kind") in ("owner", "general"):
            return AccountPrincipal(
                user_id=str(claims["sub"]),
                kind=PrincipalKind(claims["kind"]),
                business_id=claims.get("bid"),
            )
        if typ == "session" and isinstance(claims.get("sid"), str):
            return SessionPrincipal(
                session_id=claims["sid"],
                user_id=str(claims["sub"]),
                role=str(claims["role"]),
                business_id=claims.get("bid"),
            )
        raise Unauthenticated("invalid token", code="invalid_token")
