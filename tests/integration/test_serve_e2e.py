"""The README flow against a real `voxa serve` process on a free loopback port:
create a business, start customer sessions, see isolation hold."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOXA_", "LIVEKIT_"))}
    env["VOXA_DATA_DIR"] = str(tmp_path / "data")
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxa.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        else:
            pytest.fail("voxa serve did not become ready: " + (tmp_path / "serve.log").read_text())
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    assert (tmp_path / "data" / "voxa.db").exists()
    # the model server child went down with serve: nothing is left in its process group
    leftovers = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True)
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
