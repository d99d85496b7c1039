"""The README flow against a real `voxa serve` process on a free loopback port:
create a business, start customer sessions, see isolation hold."""

from __future__ import annotations

import http.client
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from voxa.bench.common import Backend, serve

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path, backend: dict[str, str | None]) -> Iterator[str]:
    """The main job with the local model (no voice): on the embedded defaults
    (SQLite), and on PostgreSQL + Redis as the non-superuser application role
    (row-level security binds the real process) when the test services are up."""
    env = {"VOXA_LLM": "local"}
    chosen = Backend(str(backend["name"]), backend["database_url"], backend["redis_url"])
    with serve(chosen, tmp_path / "data", extra_env=env, log_level="INFO") as s:
        yield s.base
        pid = s.pid
    assert (tmp_path / "data" / "voxa.db").exists() == (backend["database_url"] is None)
    # the model server child went down with serve: nothing is left in its process group
    leftovers = subprocess.run(["pgrep", "-g", str(pid)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", leftovers.stdout


def test_readme_flow_on_a_real_server(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as c:
        owner = c.post(
            "/v1/businesses",
            json={
                "name": "Bakery",
                "slug": "bakery",
                "owner": {
                    "email": "owner@bakery.example.com",
                    "name": "Bo",
                    "password": "password123",
                },
            },
        )
        assert owner.status_code == 201, owner.text
        a = c.post(
            "/v1/sessions",
            json={"role": "customer", "business": "bakery", "customer": {"name": "Ann"}},
        ).json()
        b = c.post(
            "/v1/sessions",
            json={"role": "customer", "business": "bakery", "customer": {"name": "Ben"}},
        ).json()
        assert a["room_name"] != b["room_name"]
        r = c.get(
            f"/v1/sessions/{a['session_id']}",
            headers={"Authorization": f"Bearer {b['session_token']}"},
        )
        assert r.status_code == 404 and r.json()["error"]["code"] == "session_not_found"
        listed = c.get(
            "/v1/businesses/bakery/sessions",
            headers={"Authorization": f"Bearer {owner.json()['token']}"},
        ).json()
        assert {s["session_id"] for s in listed["sessions"]} == {a["session_id"], b["session_id"]}
        assert c.get("/metrics").status_code == 200


def test_real_conversation_with_the_local_model(server: str, tmp_path: Path) -> None:
    """No API key, no network: SmolLM2 through llama-cpp-python's server."""
    with httpx.Client(base_url=server, timeout=120) as c:
        owner = c.post("/v1/businesses", json={"name": "Corner Cafe", "slug": "corner-cafe",
                                               "owner": {"email": "o@cafe.example.com",
                                                         "name": "Olu",
                                                         "password": "password123"}}).json()
        s = c.post("/v1/sessions", json={"role": "customer", "business": "corner-cafe",
                                         "customer": {"name": "Mia"}}).json()
        h = {"Authorization": f"Bearer {s['session_token']}"}
        r = c.post(f"/v1/sessions/{s['session_id']}/messages",
                   json={"text": "Hello! What kind of place is this?"}, headers=h)
        assert r.status_code == 200, r.text
        reply = r.json()["reply"]
        assert reply["content"].strip()
        assert reply["model_used"] == "smollm2-135m-instruct"
        assert reply["latency_ms"] > 0 and reply["tokens_used"] > 0
        history = c.get(f"/v1/sessions/{s['session_id']}/messages", headers=h).json()
        assert [m["content"] for m in history["messages"]] == [
            "Hello! What kind of place is this?", reply["content"]]
        # streaming works against the real model too
        with c.stream("POST", f"/v1/sessions/{s['session_id']}/messages/stream",
                      json={"text": "Thanks, bye!"}, headers=h) as st:
            lines = [line for line in st.iter_lines() if line.startswith("event: ")]
        assert lines[0] == "event: message" and lines[-1] == "event: done"
        stats = c.get("/v1/businesses/corner-cafe/stats",
                      headers={"Authorization": f"Bearer {owner['token']}"}).json()
        assert stats["total_messages"] == 4


def test_concurrent_sessions_share_the_local_model(server: str) -> None:
    """Requests queue at the one model server; none is cut short by another."""
    import concurrent.futures

    with httpx.Client(base_url=server, timeout=180) as c:
        c.post("/v1/businesses", json={"name": "Busy Cafe", "slug": "busy-cafe", "owner": {
            "email": "o@busy.example.com", "name": "Bo", "password": "password123"}})
        grants = [c.post("/v1/sessions", json={"role": "customer", "business": "busy-cafe",
                                               "customer": {"name": f"C{i}"}}).json()
                  for i in range(4)]

        def ask(g: dict[str, str]) -> httpx.Response:
            return c.post(f"/v1/sessions/{g['session_id']}/messages",
                          json={"text": "Tell me something nice about coffee."},
                          headers={"Authorization": f"Bearer {g['session_token']}"})

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            replies = list(pool.map(ask, grants))
    for r in replies:
        assert r.status_code == 200, r.text
        assert r.json()["reply"]["content"].strip()
        assert r.json()["reply"]["content"] != "Sorry, I have no answer to that."


def test_idle_connections_stay_open_longer_than_client_pools(server: str) -> None:
    """httpx keeps an idle connection 5 s: the server must keep it longer, or a
    request sent on it as the server closes it is lost."""
    conn = http.client.HTTPConnection(server.removeprefix("http://"), timeout=10)
    try:
        conn.request("GET", "/healthz")
        assert conn.getresponse().read() == b'{"status":"ok"}'
        sock = conn.sock
        time.sleep(6)  # idle past httpx's keepalive_expiry (uvicorn's default: 5 s)
        conn.request("GET", "/healthz")  # a closed connection: RemoteDisconnected
        assert conn.getresponse().read() == b'{"status":"ok"}' and conn.sock is sock
    finally:
        conn.close()
