"""Page routes. Pages are static HTML with a few values filled in (escaped);
all data comes from the JSON API, with the same credentials as any client."""

from __future__ import annotations

import html
import json
from functools import cache
from string import Template
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from voxa.api.deps import RuntimeDep
from voxa.api.security_headers import allow_framing
from voxa.slugs import is_valid_slug
from voxa.storage.repos import businesses as businesses_repo
from voxa.web.assets import STATIC_DIR, TEMPLATES

router = APIRouter(include_in_schema=False)


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text())


def render(name: str, *, status: int = 200, body_class: str = "", **values: object
           ) -> HTMLResponse:
    """The page ``name`` inside the shared layout; every value is HTML-escaped."""
    safe = {k: html.escape(str(v), quote=True) for k, v in values.items()}
    safe["voice_available"] = "true" if (STATIC_DIR / "vendor" / "livekit-client.umd.js"
                                         ).exists() else "false"
    safe["login_form"] = _template("_login_form.html").template.rstrip()
    safe["account_panel"] = _template("_account_panel.html").template.rstrip()
    content = _template(name).safe_substitute(safe)
    page = _template("_layout.html").safe_substitute(
        title=safe.get("title", "voxa"), body_class=html.escape(body_class), content=content)
    return HTMLResponse(page, status_code=status)


@router.get("/", response_class=HTMLResponse)
async def index() -> HTMLResponse:
    return render("index.html", title="voxa")


@router.get("/chat/{slug}", response_class=HTMLResponse)
async def chat_page(slug: Annotated[str, PathParam(max_length=64)], rt: RuntimeDep,
                    request: Request, embed: int = 0) -> HTMLResponse:
    business = None
    if is_valid_slug(slug):
        async with rt.db() as db:
            business = await businesses_repo.get_by_slug(db, slug)
    if business is None or business.status != "active":
        return render("not_found.html", status=404, title="Unknown business",
                      message=f"There is no business called \u201c{slug}\u201d here.")
    if embed:
        # The widget's frame: only the sites the owner listed may show it.
        allow_framing(request, business.allowed_origins)
    return render("chat.html", title=f"Chat with {business.name}", slug=business.slug,
                  business_name=business.name, body_class="embed" if embed else "")


@router.get("/assistant", response_class=HTMLResponse)
async def assistant_page() -> HTMLResponse:
    return render("assistant.html", title="voxa assistant")


@router.get("/owner", response_class=HTMLResponse)
async def owner_page() -> HTMLResponse:
    return render("owner.html", title="voxa for business owners")


@router.get("/widget.js")
async def widget(request: Request) -> Response:
    """The embeddable widget: ``<script src=".../widget.js" data-business="slug">``."""
    origin = json.dumps(str(request.base_url).rstrip("/"))
    body = (STATIC_DIR / "js" / "widget.js").read_text().replace("__VOXA_ORIGIN__", origin)
    return Response(body, media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=300"})
