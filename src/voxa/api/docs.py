"""The API reference page, ``/docs`` (Swagger UI).

FastAPI's own page loads its scripts from a CDN and starts them with an
inline script, which a ``script-src 'self'`` policy blocks. This one loads the
assets shipped in the ``fastapi-offline`` package from this server and starts
them from a static file; the page carries no inline script and makes no
request to another origin. There is no ``/redoc``: ReDoc's bundle always
loads its logo from its CDN.
"""

from __future__ import annotations

import html
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = Path(fastapi_offline.__file__).with_name("static")
ASSETS_URL = "/docs-assets"

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>voxa API: {title}</title>
  {css}
</head>
<body>
  <div id="{element}" data-openapi-url="{openapi_url}"></div>
  <script src="{assets}/{bundle}"></script>
  <script src="/static/js/api-docs.js"></script>
</body>
</html>
"""


def _page(title: str, element: str, bundle: str, css: str, openapi_url: str) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=title, element=element, bundle=bundle, css=css,
                                     assets=ASSETS_URL, openapi_url=html.escape(openapi_url)))


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """Serve ``/docs`` and its assets for ``openapi_url``."""
    router = APIRouter(include_in_schema=False)

    @router.get("/docs", response_class=HTMLResponse)
    async def swagger_ui() -> HTMLResponse:
        css = f'<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">'
        return _page("Swagger UI", "swagger-ui", "swagger-ui-bundle.js", css, openapi_url)

    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
