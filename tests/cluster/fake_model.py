"""A recording model shared by every process of the cluster: a real
OpenAI-compatible HTTP server (``/v1/chat/completions``, streamed) that
replies "You said: <last user message>", keeps every prompt it was shown, and
holds the reply of a message containing ``[hold]`` until the test releases it
(so a test can act while a turn is inside the model). The API replicas and the
voice workers reach it through ``VOXA_LLM=openai:recording`` and
``VOXA_LLM_BASE_URL``; nothing in voxa is replaced."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOLD = "[hold]"


@dataclass(frozen=True)
class Call:
    last_user: str
    messages: list[dict[str, str]]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


class RecordingModel:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.calls: list[Call] = []
        self._released: set[str] = set()
        self.base_url = ""

    # -- the test's side ------------------------------------------------------
    def calls_for(self, marker: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if marker in c.last_user]

    def release(self, marker: str) -> None:
        with self._lock:
            self._released.add(marker)
            self._lock.notify_all()

    # -- the server's side ----------------------------------------------------
    def record(self, body: dict[str, Any]) -> Call:
        messages = [{"role": str(m.get("role")), "content": _text(m.get("content"))}
                    for m in body.get("messages", [])]
        last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        call = Call(last, messages)
        with self._lock:
            self.calls.append(call)
        if HOLD in last:
            with self._lock:  # bounded: a forgotten release fails the test, not the run
                self._lock.wait_for(lambda: any(r in last for r in self._released), timeout=180)
        return call


def _chunk(cid: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
            "model": "recording",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n".encode()


def _handler(model: RecordingModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # the test's output stays readable

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            call = model.record(body)
            cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
            out = [_chunk(cid, {"role": "assistant", "content": ""}),
                   _chunk(cid, {"content": f"You said: {call.last_user}"}),
                   _chunk(cid, {}, "stop"), b"data: [DONE]\n\n"]
            payload = b"".join(out)
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@contextmanager
def recording_model() -> Iterator[RecordingModel]:
    model = RecordingModel()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(model))
    server.daemon_threads = True
    model.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, name="recording-model", daemon=True)
    thread.start()
    try:
        yield model
    finally:
        with model._lock:  # release every held reply so no handler outlives the stack
            model._released.add("")
            model._lock.notify_all()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
