"""Deleting a session's LiveKit room when the session ends:
LiveKit's server API disconnects every participant of a deleted room, so a
caller and an agent cannot stay in a room whose session is over.

The lifecycle talks to the small :class:`RoomCloser` interface; the LiveKit
implementation holds one API client per runtime (one HTTP connection pool).
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod

from livekit import api

from voxa.logs import get_logger
from voxa.settings import Settings

log = get_logger(__name__)

# Ending a session waits for the room deletion, but never long: a LiveKit that
# is down costs the end request at most about ATTEMPTS x ATTEMPT_TIMEOUT_S.
ATTEMPTS = 3
ATTEMPT_TIMEOUT_S = 3.0
BACKOFF_S = 0.25
# After giving up on a deletion, later ones try once until this has passed: a
# cleanup run ending hundreds of sessions while LiveKit is down must not wait
# out every retry of every one of them.
DOWN_FOR_S = 30.0


class RoomCloser(ABC):
    """Deletes rooms by name."""

    # monotonic time until which LiveKit is taken to be down (one try per room)
    down_until: float = 0.0

    @abstractmethod
    async def delete_room(self, room_name: str) -> bool:
        """Delete ``room_name``, disconnecting everyone in it. False when there
        was no such room; raises when the server could not be asked."""

    async def aclose(self) -> None:  # noqa: B027 - nothing to release by default
        """Release connections."""


class LiveKitRoomCloser(RoomCloser):
    def __init__(self, url: str, api_key: str, api_secret: str) -> None:
        # The API client maps ws(s):// to http(s)://. Cloud region failover is
        # off and each call is bounded by delete_room_bounded, which retries.
        self._api = api.LiveKitAPI(url, api_key, api_secret, failover=False)

    async def delete_room(self, room_name: str) -> bool:
        try:
            await self._api.room.delete_room(api.DeleteRoomRequest(room=room_name))
        except api.ServerError as exc:
            if exc.code == api.ServerErrorCode.NOT_FOUND:
                return False
            raise
        return True

    async def aclose(self) -> None:
        await self._api.aclose()


def livekit_room_closer(settings: Settings) -> RoomCloser | None:
    """The runtime's room closer; None when LiveKit is not configured (no rooms)."""
    if not settings.livekit_configured:
        return None
    assert settings.livekit_url and settings.livekit_api_key and settings.livekit_api_secret
    return LiveKitRoomCloser(settings.livekit_url, settings.livekit_api_key,
                             settings.livekit_api_secret.get_secret_value())


async def delete_room_bounded(rooms: RoomCloser, room_name: str, *, session_id: str) -> bool:
    """Delete the room, retrying a few times; False (logged) if LiveKit could
    not be reached. The session is already ended by then, and its agent leaves
    on its own at its next heartbeat re-check; a caller rejoining with its old
    token finds no agent (a job refuses an ended session)."""
    attempts = 1 if time.monotonic() < rooms.down_until else ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            existed = await asyncio.wait_for(rooms.delete_room(room_name), ATTEMPT_TIMEOUT_S)
        except Exception as exc:  # any failure of the remote call: retry, then give up
            log.warning("room_delete_failed", session_id=session_id, room=room_name,
                        attempt=attempt, error=repr(exc))
            if attempt < attempts:
                await asyncio.sleep(BACKOFF_S * attempt)
            continue
        rooms.down_until = 0.0
        log.info("room_deleted", session_id=session_id, room=room_name, existed=existed)
        return True
    rooms.down_until = time.monotonic() + DOWN_FOR_S
    log.error("room_delete_gave_up", session_id=session_id, room=room_name, attempts=attempts)
    return False
