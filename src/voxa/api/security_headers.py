"""Security headers on every response.

Pages get a strict Content-Security-Policy (scripts and styles only from
voxa's own files, no inline code), everything else a CSP that allows nothing.
No page may be framed, except the customer chat embedded by the widget
(``/chat/{slug}?embed=1``), which the route opens to the business's allowed
site origins with :func:`allow_framing`. The microphone is allowed only on
the pages that place calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxa.web.origins import valid_origins

_FRAME_ANCESTORS = "voxa_frame_ancestors"
# Pages that place voice calls (the microphone); everything else gets none.
_CALL_PAGES = ("/chat/", "/assistant", "/owner")
_OTHER_FEATURES = "camera=(), geolocation=(), payment=(), usb=(), display-capture=()"


def allow_framing(request: Request, origins: Sequence[object]) -> None:
    """Let ``origins`` (and only them) frame this response; none: refuse framing."""
    setattr(request.state, _FRAME_ANCESTORS, valid_origins(origins))


def livekit_sources(url: str | None) -> list[str]:
    """The origins livekit-client talks to for ``url``: its WebSocket and, for
    connection checks, the same host over http(s)."""
    if not url:
        return []
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss", "http", "https") or not parts.netloc:
        return []
    secure = parts.scheme in ("wss", "https")
    return [f"{'wss' if secure else 'ws'}://{parts.netloc}",
            f"{'https' if secure else 'http'}://{parts.netloc}"]


class HeaderPolicy:
    """The headers for one response, from its path, type and framing grant."""

    def __init__(self, *, connect_src: Sequence[str] = ()) -> None:
        connect = " ".join(["'self'", *connect_src])
        self._page_csp = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"media-src 'self' blob:; connect-src {connect}; object-src 'none'; "
            "base-uri 'none'; form-action 'self'"
        )

    def headers(self, path: str, content_type: str, frame_ancestors: list[str] | None
                ) -> dict[str, str]:
        framed = bool(frame_ancestors)
        ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
        is_page = content_type.startswith("text/html")
        csp = self._page_csp if is_page else "default-src 'none'; base-uri 'none'"
        microphone = "(self)" if is_page and path.startswith(_CALL_PAGES) else "()"
        out = {
            "content-security-policy": f"{csp}; frame-ancestors {ancestors}",
            "x-content-type-options": "nosniff",
            "referrer-policy": "strict-origin-when-cross-origin",
            "permissions-policy": f"microphone={microphone}, {_OTHER_FEATURES}",
        }
        if not framed:
            out["x-frame-options"] = "DENY"
        if is_page:
            out["cross-origin-opener-policy"] = "same-origin"
        return out


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, policy: HeaderPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Request.state is this dict, so a route's allow_framing() shows here.
        state = scope.setdefault("state", {})

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                granted = state.get(_FRAME_ANCESTORS)
                for name, value in self.policy.headers(
                        scope["path"], headers.get("content-type", ""), granted).items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_wrapper)
