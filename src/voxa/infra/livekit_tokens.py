"""LiveKit access tokens for one session's room."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from livekit import api
from livekit.protocol.agent_dispatch import RoomAgentDispatch
from livekit.protocol.room import RoomConfiguration

from voxa.tracing import inject_metadata


@dataclass(frozen=True, slots=True)
class TokenRequest:
    room_name: str
    role: str
    user_id: str
    display_name: str
    business_slug: str | None
    session_id: str
    timestamp_ms: int


class LiveKitTokens:
    def __init__(
        self, *, url: str, api_key: str, api_secret: str, agent_name: str, ttl: timedelta
    ) -> None:
        self.url = url
        self.api_key = api_key
        self._api_secret = api_secret
        self.agent_name = agent_name
        self.ttl = ttl

    def __repr__(self) -> str:
        return f"LiveKitTokens(url={self.url!r}, api_key={self.api_key!r}, secret=***)"

    def mint(self, req: TokenRequest) -> str:
        """A token for ``req.room_name`` only: join, publish, subscribe and data;
        no room admin, no own-metadata updates; dispatches the agent by name."""
        grants = api.VideoGrants(
            room_join=True,
            room=req.room_name,
            can_publish=True,
            can_subscribe=True,
            can_publish_data=True,
            can_update_own_metadata=False,
            room_admin=False,
            room_create=False,
            room_list=False,
        )
        attributes = {
            "role": req.role,
            "businessId": req.business_slug or "",
            "userName": req.display_name,
            "sessionId": req.session_id,
            "timestamp": str(req.timestamp_ms),
        }
        room_config = RoomConfiguration(
            agents=[
                RoomAgentDispatch(
                    agent_name=self.agent_name,
                    metadata=json.dumps(inject_metadata({"session_id": req.session_id})),
                )
            ]
        )
        return (
            api.AccessToken(self.api_key, self._api_secret)
            .with_identity(f"{req.role}-{req.user_id}")
            .with_name(req.display_name)
            .with_attributes(attributes)
            .with_grants(grants)
            .with_ttl(self.ttl)
            .with_room_config(room_config)
            .to_jwt()
        )

    @property
    def api_secret(self) -> str:
        return self._api_secret

    def verify(self, token: str) -> api.access_token.Claims:
        return api.TokenVerifier(self.api_key, self._api_secret).verify(token)
