"""Server-side page rendering (fast; the browser tests cover behaviour)."""

from __future__ import annotations

import httpx

from tests.helpers import create_business


async def test_pages_render_and_escape(client: httpx.AsyncClient) -> None:
    await create_business(client, "page-co", name='<script>alert("x")</script> & Co')
    r = await client.get("/chat/page-co")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in r.text
    assert '<script>alert("x")' not in r.text
    assert 'data-slug="page-co"' in r.text and "/static/js/chat-page.js" in r.text
    assert r.text.count("<html") == 1 and '<body class="">' in r.text
    assert '<body class="embed">' in (await client.get("/chat/page-co?embed=1")).text
    for path in ("/owner", "/assistant"):
        page = await client.get(path)
        assert page.status_code == 200 and 'id="login-form"' in page.text
        assert "$" not in page.text.replace("$$", "")


async def test_unknown_or_malformed_business_is_a_404_page(client: httpx.AsyncClient) -> None:
    for slug in ("no-such-shop", "BAD%20slug", "general"):
        r = await client.get(f"/chat/{slug}")
        assert r.status_code == 404 and 'role="alert"' in r.text


async def test_widget_script_and_static_assets(client: httpx.AsyncClient) -> None:
    r = await client.get("/widget.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert 'var origin = "http://voxa.test";' in r.text
    for asset in ("/static/css/voxa.css", "/static/js/chat.js", "/static/js/api.js"):
        assert (await client.get(asset)).status_code == 200
    assert (await client.get("/static/js/nope.js")).status_code == 404
