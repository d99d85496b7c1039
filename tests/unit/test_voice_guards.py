"""The voice job's guards on their own: room text limits and the silence timer."""

from __future__ import annotations

import asyncio
import time

from voxa.voice.room_text import RoomTextGate
from voxa.voice.silence import SilenceWatch


def _gate(rate: str = "3/minute", max_chars: int = 10) -> RoomTextGate:
    return RoomTextGate(session_id="s1", max_chars=max_chars, rate=rate, on_accepted=lambda: None)


async def test_oversize_text_is_refused_at_the_http_limit() -> None:
    gate = _gate(max_chars=10)
    assert await gate.refusal("x" * 10) is None
    assert await gate.refusal("x" * 11) == "too_long"


async def test_room_text_rate_counts_every_message() -> None:
    gate = _gate(rate="3/minute", max_chars=10)
    assert [await gate.refusal(t) for t in ("a", "x" * 50, "b", "c")] == [
        None, "too_long", None, "rate_limited"]


async def test_silence_expires_and_activity_restarts_the_timer() -> None:
    watch = SilenceWatch(0.6)
    watch.start()
    started = time.monotonic()
    try:
        await asyncio.sleep(0.4)
        assert not watch.expired.is_set()
        watch.activity()  # a turn: the caller has another 0.6 s
        await asyncio.wait_for(watch.expired.wait(), 5)
        assert time.monotonic() - started >= 0.4 + 0.6 - 0.05
    finally:
        await watch.stop()
