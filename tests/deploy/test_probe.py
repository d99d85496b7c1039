"""deploy/probe.py (voxa-probe), the container probe the compose health
checks and the chart's readiness probe run: 2xx → 0, anything else → 1, the
operator token sent from the environment."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PROBE = Path(__file__).resolve().parents[2] / "deploy" / "probe.py"
TOKEN = "op-token-123"


def _probe_main() -> Callable[[list[str]], int]:
    spec = importlib.util.spec_from_file_location("voxa_probe", PROBE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    main: Callable[[list[str]], int] = module.main
    return main


class _Readyz(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/down":
            self.send_response(503)
        elif self.path == "/readyz" and self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.send_response(401)
        else:
            self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Readyz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_probe(base_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    main = _probe_main()
    monkeypatch.delenv("VOXA_OPERATOR_TOKEN", raising=False)
    assert main([f"{base_url}/healthz"]) == 0
    assert main([f"{base_url}/down"]) == 1
    assert main([f"{base_url}/readyz", "--token-env", "VOXA_OPERATOR_TOKEN"]) == 1
    monkeypatch.setenv("VOXA_OPERATOR_TOKEN", TOKEN)
    assert main([f"{base_url}/readyz", "--token-env", "VOXA_OPERATOR_TOKEN"]) == 0


def test_probe_refused_connection() -> None:
    main = _probe_main()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Readyz)
    port = server.server_address[1]
    server.server_close()  # nothing listens there now
    assert main([f"http://127.0.0.1:{port}/", "--timeout", "2"]) == 1
