"""LiveKit access tokens for one session's room."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from livekit import api
from livekit.protocol.agent_dispatch import RoomAgentDispatch
from livekit.protocol.room import RoomConfiguration

from voxa.infra.dispatch_metadata import dispatch_metadata

# An owner who joins a customer's call: the identity's prefix and the role
# attribute the voice job recognises (a customer's identity is ``customer-…``).
OWNER_CALL_PREFIX = "owner-"
OWNER_CALL_ROLE = "human_agent"


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
        return (
            api.AccessToken(self.api_key, self._api_secret)
            .with_identity(f"{req.role}-{req.user_id}")
            .with_name(req.display_name)
            .with_attributes(attributes)
            .with_grants(grants)
            .with_ttl(self.ttl)
            .with_room_config(self._dispatching(req.session_id))
            .to_jwt()
        )

    def _dispatching(self, session_id: str) -> RoomConfiguration:
        """The room's agent, dispatched by whichever join creates the room (a
        room that already exists ignores it, so there is never a second)."""
        return RoomConfiguration(agents=[RoomAgentDispatch(
            agent_name=self.agent_name,
            metadata=dispatch_metadata(session_id))])

    def mint_owner_call(self, *, room_name: str, session_id: str, user_id: str,
                        display_name: str, ttl: timedelta) -> str:
        """A token for the owner joining a customer's call in ``room_name``
        only: publish audio and subscribe, no data, no video, no admin. An
        owner quicker than the customer creates the room, so the token carries
        the same agent dispatch as the customer's."""
        grants = api.VideoGrants(
            room_join=True,
            room=room_name,
            can_publish=True,
            can_publish_sources=["microphone"],
            can_subscribe=True,
            can_publish_data=False,
            can_update_own_metadata=False,
            room_admin=False,
            room_create=False,
            room_list=False,
        )
        return (
            api.AccessToken(self.api_key, self._api_secret)
            .with_identity(owner_call_identity(user_id))
            .with_name(display_name)
            .with_attributes({"role": OWNER_CALL_ROLE, "sessionId": session_id,
                              "userName": display_name})
            .with_grants(grants)
            .with_ttl(ttl)
            .with_room_config(self._dispatching(session_id))
            .to_jwt()
        )

    @property
    def api_secret(self) -> str:
        return self._api_secret

    def verify(self, token: str) -> api.access_token.Claims:
        return api.TokenVerifier(self.api_key, self._api_secret).verify(token)


def owner_call_identity(user_id: str) -> str:
    return f"{OWNER_CALL_PREFIX}{user_id}"


def is_owner_in_call(identity: str, attributes: dict[str, str]) -> bool:
    """Whether a room participant is a business's owner joined by
    :meth:`LiveKitTokens.mint_owner_call` (identity and role were signed by voxa)."""
    return identity.startswith(OWNER_CALL_PREFIX) and attributes.get("role") == OWNER_CALL_ROLE
