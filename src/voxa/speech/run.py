"""Run ``voxa speech``: load the replicas, then listen (127.0.0.1 by default;
port 0 picks a free port, reported in the log and, with ``port_file``, written
there once the server accepts connections)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

from voxa.logs import get_logger
from voxa.settings import Settings
from voxa.speech.replicas import ReplicaPool

log = get_logger("voxa.speech")
DEFAULT_PORT = 8100


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


async def serve_speech(settings: Settings, *, host: str, port: int,
                       port_file: Path | None = None) -> None:
    import uvicorn

    from voxa.speech.server import create_speech_app

    pool = ReplicaPool(replicas=settings.speech_replicas, queue_size=settings.speech_queue,
                       cache=settings.data_dir / "models")
    await asyncio.to_thread(pool.start)
    app = create_speech_app(settings, pool)
    sock = _bind(host, port)
    bound = int(sock.getsockname()[1])
    def announce() -> None:
        log.info("speech_listening", url=f"http://{host}:{bound}/v1",
                 replicas=pool.replicas, queue=settings.speech_queue)
        if port_file is not None:
            tmp = port_file.with_suffix(".tmp")
            tmp.write_text(str(bound))
            tmp.replace(port_file)

    server = _announcing_server_class()(uvicorn.Config(app, log_level="warning", access_log=False,
                                              timeout_keep_alive=75), announce)
    try:
        await server.serve(sockets=[sock])
    finally:
        pool.stop()


def _announcing_server_class() -> type:
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        """Says where it listens once it accepts connections."""

        def __init__(self, config: uvicorn.Config, on_started: Callable[[], None]) -> None:
            super().__init__(config)
            self._on_started = on_started

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                self._on_started()

    return AnnouncingServer
