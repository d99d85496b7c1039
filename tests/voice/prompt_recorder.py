"""An OpenAI-compatible chat server for voice tests that keeps every prompt it
is shown, with the process that sent it.

Voice jobs run in their own processes, so the in-process recording model
(``voxa.agent.recording_llm``) cannot see their prompts. `voxa serve` is
pointed at this server instead (``VOXA_LLM=openai:recorder``,
``VOXA_LLM_BASE_URL``): the real provider path sends the real prompts, and the
sending process is found from the connection's peer address (each voice job
is one process, whose pid the job stores under ``agent_pid_key``), so a
prompt is attributed to its session without trusting its contents.

Its answers: after a user turn, a call of the ``recall``
tool (the session's memories come back as tool output, the way a model asks
for them); after the tool's output, a short sentence."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psutil
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

REPLY = "Thank you, noted."


@dataclass(frozen=True)
class SeenPrompt:
    pid: int | None
    system: str
    text: str
    tools: tuple[str, ...]


def _content(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # content parts
        content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    calls = " ".join(f"{c['function']['name']} {c['function']['arguments']}"
                     for c in message.get("tool_calls") or [])
    return f"{content or ''} {calls}".strip()


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {"id": "rec", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": "recorder", "choices": [{"index": 0, "delta": delta,
                                              "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n"


class PromptRecorder:
    def __init__(self) -> None:
        self.prompts: list[SeenPrompt] = []
        self._lock = threading.Lock()
        self.port = 0

    def _sender(self, request: Request) -> int | None:
        peer = request.client
        if peer is None:
            return None
        for conn in psutil.net_connections(kind="tcp"):
            if (conn.laddr and conn.raddr and conn.laddr.port == peer.port
                    and conn.raddr.port == self.port and conn.pid is not None):
                return int(conn.pid)
        return None

    async def completions(self, request: Request) -> StreamingResponse:
        body = await request.json()
        messages: list[dict[str, Any]] = body.get("messages", [])
        pid = await asyncio.to_thread(self._sender, request)
        seen = SeenPrompt(
            pid=pid,
            system="\n".join(_content(m) for m in messages if m.get("role") in (
                "system", "developer")),
            text="\n".join(_content(m) for m in messages),
            tools=tuple(t.get("function", {}).get("name", "") for t in body.get("tools") or []))
        with self._lock:
            self.prompts.append(seen)
        users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
        # after the caller's turn (a knowledge brief may follow it) the model
        # asks for the memories once; with the tool's output it answers
        asks_tool = bool(users) and "recall" in seen.tools and not any(
            m.get("role") == "tool" for m in messages[users[-1]:])

        async def stream() -> AsyncIterator[str]:
            if asks_tool:
                call = {"index": 0, "id": f"call_{uuid.uuid4().hex[:8]}", "type": "function",
                        "function": {"name": "recall",
                                     "arguments": json.dumps({"query": "passphrase"})}}
                yield _chunk({"role": "assistant", "tool_calls": [call]})
                yield _chunk({}, "tool_calls")
            else:
                yield _chunk({"role": "assistant", "content": REPLY})
                yield _chunk({}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    def for_pid(self, pid: int) -> list[SeenPrompt]:
        with self._lock:
            return [p for p in self.prompts if p.pid == pid]


@contextmanager
def prompt_recorder() -> Iterator[PromptRecorder]:
    """The recorder on a loopback port the kernel chose (``.port``), stopped on exit."""
    recorder = PromptRecorder()
    app = Starlette(routes=[Route("/v1/chat/completions", recorder.completions,
                                  methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    recorder.port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the prompt recorder did not start")
            time.sleep(0.05)  # polling a flag set by the server's own thread
        yield recorder
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
