"""Bringing an agent back to a voice session whose job died (resume)."""

from __future__ import annotations

from livekit import api

from voxa.infra.dispatch_metadata import dispatch_metadata
from voxa.kv.keys import agent_pid_key
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.storage.models import AgentSession

log = get_logger(__name__)


def http_url(ws_url: str) -> str:
    return ws_url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)


async def ensure_agent(rt: Runtime, row: AgentSession) -> bool:
    """Dispatch a fresh agent job if the session's room still exists but no
    agent heartbeats for it. (A room that no longer exists gets its agent from
    the token's own dispatch when the client rejoins.) True if dispatched."""
    if rt.livekit is None or row.channel == "text":
        return False
    if await rt.store.exists(agent_pid_key(row.session_id)):
        return False
    lk = rt.livekit
    client = api.LiveKitAPI(url=http_url(lk.url), api_key=lk.api_key, api_secret=lk.api_secret)
    try:
        rooms = await client.room.list_rooms(api.ListRoomsRequest(names=[row.room_name]))
        if not rooms.rooms:
            return False
        await client.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(
            agent_name=lk.agent_name, room=row.room_name,
            metadata=dispatch_metadata(row.session_id)))
        log.info("agent_redispatched", session_id=row.session_id)
        return True
    except Exception:
        log.exception("agent_redispatch_failed", session_id=row.session_id)
        return False
    finally:
        await client.aclose()
