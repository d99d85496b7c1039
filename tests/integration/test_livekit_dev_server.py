"""The embedded livekit-server cannot bind port 0 and report it: when a port
chosen for it is taken before it starts, it starts again on fresh ports."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from tests.live_server import ROOT
from voxa.voice.livekit_server import LiveKitDevServer, find_binary

pytestmark = pytest.mark.slow


def test_a_taken_port_is_retried_on_fresh_ones(tmp_path: Path) -> None:
    binary = find_binary(ROOT)
    if binary is None:
        pytest.fail("livekit-server is not installed: run scripts/bootstrap.sh --tools")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = int(squatter.getsockname()[1])
        server = LiveKitDevServer(binary, work_dir=tmp_path, port=taken)
        endpoint = server.start()
        try:
            assert server.port != taken
            assert endpoint.url == f"ws://127.0.0.1:{server.port}"
            assert httpx.get(f"http://127.0.0.1:{server.port}/", timeout=5).status_code == 200
            # the first attempt did fail on the taken port (not some other error)
            assert b"address already in use" in (tmp_path / "livekit-server.log").read_bytes()
        finally:
            server.stop()
