"""The pages' session cookie and its CSRF protection.

Browsers hold the account token in an HttpOnly, SameSite=Strict cookie that
page script cannot read. A second, readable cookie carries the CSRF token: an
HMAC of the session token's ``jti``, which the pages echo in ``X-CSRF-Token``
on every unsafe request. A cookie-authenticated POST/PUT/PATCH/DELETE is
refused (403 ``csrf_failed``) unless that header matches and the request's
``Origin`` (or, without one, ``Referer``) is the server's own origin. Over
https both cookies are ``Secure`` and take the ``__Host-`` prefix, so no
sibling subdomain can plant them.
"""

from __future__ import annotations

import base64
import hmac
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from voxa.auth.tokens import IssuedToken, TokenSigner
from voxa.errors import Forbidden
from voxa.settings import Settings

SESSION_COOKIE = "voxa_session"
CSRF_COOKIE = "voxa_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_secure(request: Request, settings: Settings) -> bool:
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return request.url.scheme == "https"


def _name(base: str, secure: bool) -> str:
    return f"__Host-{base}" if secure else base


def csrf_token(signer: TokenSigner, jti: str) -> str:
    return base64.urlsafe_b64encode(signer.mac("csrf", jti)).rstrip(b"=").decode()


def read_session(request: Request, settings: Settings) -> str | None:
    return request.cookies.get(_name(SESSION_COOKIE, is_secure(request, settings))) or None


def set_session(
    response: Response, request: Request, settings: Settings, signer: TokenSigner,
    issued: IssuedToken,
) -> None:
    secure = is_secure(request, settings)
    max_age = int(settings.user_token_ttl_hours * 3600)
    for name, value, http_only in (
        (SESSION_COOKIE, issued.value, True),
        (CSRF_COOKIE, csrf_token(signer, issued.jti), False),
    ):
        response.set_cookie(
            _name(name, secure), value, max_age=max_age, path="/", secure=secure,
            httponly=http_only, samesite="strict",
        )
    response.headers["Cache-Control"] = "no-store"


def clear_session(response: Response, request: Request, settings: Settings) -> None:
    secure = is_secure(request, settings)
    for name, http_only in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(
            _name(name, secure), path="/", secure=secure, httponly=http_only, samesite="strict"
        )


def _origin_of(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def check_origin(request: Request) -> None:
    """Refuse unless the browser says the request comes from this very origin."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    own = _origin_of(str(request.base_url))
    if not claimed or own is None or _origin_of(claimed) != own:
        raise Forbidden("cross-origin request refused", code="csrf_failed")


def check_csrf(request: Request, signer: TokenSigner, jti: str) -> None:
    """The CSRF checks for a request authenticated by the session cookie."""
    if request.method in SAFE_METHODS:
        return
    check_origin(request)
    sent = request.headers.get(CSRF_HEADER, "").encode("latin-1")
    if not hmac.compare_digest(sent, csrf_token(signer, jti).encode()):
        raise Forbidden("missing or wrong CSRF token", code="csrf_failed")
