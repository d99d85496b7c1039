"""Room closers for tests: real implementations of ``RoomCloser`` that record
what the lifecycle asked for instead of calling a LiveKit server."""

from __future__ import annotations

from voxa.infra.livekit_rooms import RoomCloser


class RecordingRooms(RoomCloser):
    """LiveKit as it answers when it is up: every room exists once."""

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.closed = False

    async def delete_room(self, room_name: str) -> bool:
        existed = room_name not in self.deleted
        self.deleted.append(room_name)
        return existed

    async def aclose(self) -> None:
        self.closed = True


class DownRooms(RoomCloser):
    """LiveKit that is down: every call fails as a refused connection does."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    async def delete_room(self, room_name: str) -> bool:
        self.attempts.append(room_name)
        raise ConnectionRefusedError(f"livekit is down (room {room_name})")
