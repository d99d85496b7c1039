"""Text a caller sends in the room (``lk.chat``) obeys the same limits as an
HTTP turn: at most ``max_text_chars`` characters, and at most
``limit_turns_per_session`` messages per session.

Refused text never reaches the model and is never persisted. An oversize
message gets a short spoken notice (kept out of the conversation and the
transcript, so the caller knows why nothing happened); a message over the rate
limit is dropped without a word, so a flood cannot make the agent talk.
Every message counts against the rate, refused or not, which also bounds the
notices.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from livekit.agents import AgentSession, llm
from livekit.agents.voice.room_io import TextInputEvent, TextInputOptions

from voxa.logs import get_logger

log = get_logger(__name__)

TOO_LONG_NOTICE = "Sorry, that message is too long for me. Please send a shorter one."


class RoomTextGate:
    def __init__(self, *, session_id: str, max_chars: int, rate: str,
                 on_accepted: Callable[[], None]) -> None:
        self._sid = session_id
        self._max_chars = max_chars
        self._rate = parse(rate)
        # In-process storage is the whole truth here: a session has exactly one
        # job at a time (the heartbeat claim refuses a second one), so no other
        # process ever counts this session's room text.
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._on_accepted = on_accepted
        self._take = TextInputOptions().text_input_cb  # livekit-agents' own handling
        # the owner's presence in the call (voice.owner_presence): taken text gets no reply
        self.hold: Callable[[llm.ChatMessage], Awaitable[bool]] | None = None
        self.refused = 0

    async def refusal(self, text: str) -> str | None:
        """Why ``text`` must not become a turn, or None to take it."""
        if not await self._limiter.hit(self._rate, "room-text", self._sid):
            return "rate_limited"
        if len(text) > self._max_chars:
            return "too_long"
        return None

    async def __call__(self, session: AgentSession[None], ev: TextInputEvent) -> None:
        """livekit-agents' text input callback (``TextInputOptions.text_input_cb``)."""
        why = await self.refusal(ev.text)
        if why is None:
            self._on_accepted()
            if self.hold is not None and await self.hold(
                    llm.ChatMessage(role="user", content=[ev.text])):
                return
            taken = self._take(session, ev)
            if taken is not None:
                await taken
            return
        self.refused += 1
        log.warning("room_text_refused", reason=why, chars=len(ev.text),
                    limit_chars=self._max_chars, rate=str(self._rate))
        if why == "too_long":
            session.say(TOO_LONG_NOTICE, add_to_chat_ctx=False)
