from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from voxa.agent.turns import TextTurns, TurnResult
from voxa.api.deps import HeldSession, RuntimeDep
from voxa.api.errors import error_body
from voxa.api.schemas import MessageIn, MessageOut, TurnOut
from voxa.errors import InvalidInput, Unavailable, VoxaError
from voxa.storage.models import AgentMessage

router = APIRouter(prefix="/v1/sessions", tags=["messages"])


class EventStream(StreamingResponse):
    media_type = "text/event-stream"


def _turns(request: Request) -> TextTurns:
    turns = getattr(request.app.state, "turns", None)
    if turns is None:
        raise Unavailable("the text assistant is not running", code="assistant_unavailable")
    return turns  # type: ignore[no-any-return]


def _check_text(body: MessageIn, limit: int) -> str:
    text = body.text.strip()
    if not text:
        raise InvalidInput("text is empty", code="invalid_text")
    if len(text) > limit:
        raise InvalidInput(f"text is longer than {limit} characters", code="text_too_long")
    return text


def _out(result: TurnResult) -> TurnOut:
    return TurnOut(message=MessageOut.model_validate(result.message, from_attributes=True),
                   reply=(MessageOut.model_validate(result.reply, from_attributes=True)
                          if result.reply is not None else None),
                   replayed=result.replayed)


@router.post("/{session_id}/messages", response_model=TurnOut)
async def post_message(body: MessageIn, row: HeldSession, rt: RuntimeDep,
                       request: Request) -> TurnOut:
    """One turn; the reply is committed before this answers."""
    text = _check_text(body, rt.settings.max_text_chars)
    result = await _turns(request).send(row, text, body.client_message_id)
    return _out(result)


async def _until_accepted(task: asyncio.Task[TurnResult], accepted: asyncio.Event) -> None:
    """Wait until the user message is stored (or the turn is over): a turn
    refused before that (limits 429, model line 503, session busy) is answered
    with its own status instead of an event inside a 200 stream."""
    waiter = asyncio.create_task(accepted.wait(), name="turn-accepted")
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if task.done() and not accepted.is_set() and not task.cancelled():
        exc = task.exception()
        if exc is not None:
            raise exc


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n".encode()


# One server-sent event; ``data`` is the JSON of a MessageOut (message), a text
# piece (delta), a TurnOut (done) or an Error (error).
_SSE_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"enum": ["message", "delta", "done", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}


@router.post("/{session_id}/messages/stream", response_class=EventStream, responses={
    200: {"description": "the turn as server-sent events",
          "content": {"text/event-stream": {"schema": _SSE_EVENT}}}})
async def stream_message(body: MessageIn, row: HeldSession, rt: RuntimeDep,
                         request: Request) -> EventStream:
    """Server-sent events: ``message`` (the user message, persisted), ``delta``
    (reply text as it is generated), then ``done`` (both messages, persisted)
    or ``error``. The turn completes and is stored even if the client leaves."""
    text = _check_text(body, rt.settings.max_text_chars)
    turns = _turns(request)
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    accepted = asyncio.Event()

    async def on_accepted(message: AgentMessage) -> None:
        out = MessageOut.model_validate(message, from_attributes=True)
        await queue.put(_sse("message", out.model_dump(mode="json")))
        accepted.set()

    async def on_delta(piece: str) -> None:
        await queue.put(_sse("delta", {"text": piece}))

    task = turns.send_in_background(row, text, body.client_message_id, on_delta, on_accepted)
    await _until_accepted(task, accepted)

    def finished(t: asyncio.Task[TurnResult]) -> None:
        if t.cancelled():
            queue.put_nowait(_sse("error", error_body("cancelled", "turn cancelled")))
        elif (exc := t.exception()) is not None:
            if isinstance(exc, VoxaError):
                queue.put_nowait(_sse("error", error_body(exc.code, exc.message)))
            else:
                queue.put_nowait(_sse("error", error_body("internal_error", "turn failed")))
        else:
            queue.put_nowait(_sse("done", _out(t.result()).model_dump(mode="json")))
        queue.put_nowait(None)

    task.add_done_callback(finished)

    async def events() -> AsyncIterator[bytes]:
        while (item := await queue.get()) is not None:
            yield item

    return EventStream(events(),
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
