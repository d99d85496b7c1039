"""An owner joins a customer's voice call (issue 14 part 2, voice): the token
is for the business's owners only, for that session's room only, marks the
owner, allows publishing audio and nothing else of the room; a text session
has no call to join."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import jwt

from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.infra.livekit_tokens import is_owner_in_call
from voxa.runtime import Runtime


async def test_the_owner_gets_a_token_for_that_room_only(
        client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await create_business(client, "call-co")
    s = await start_customer(client, "call-co", channel="voice")
    other = await start_customer(client, "call-co", channel="voice")
    sid = s["session_id"]
    r = await client.post(f"/v1/sessions/{sid}/join-call", headers=bearer(owner["token"]))
    assert r.status_code == 200, r.text
    grant = r.json()
    assert grant["room_name"] == s["room_name"] != other["room_name"]
    assert grant["url"] == runtime.settings.livekit_url
    assert grant["identity"].startswith("owner-")
    assert runtime.livekit is not None
    claims = runtime.livekit.verify(grant["token"])
    assert claims.identity == grant["identity"]
    assert is_owner_in_call(claims.identity, dict(claims.attributes or {}))
    assert claims.attributes is not None and claims.attributes["sessionId"] == sid
    video = claims.video
    assert video is not None
    assert video.room == s["room_name"] and video.room_join
    assert video.can_publish and video.can_publish_sources == ["microphone"]
    assert not video.can_publish_data and not video.room_admin and not video.room_create
    assert not video.room_list
    # the room's one agent, dispatched by whichever join creates the room
    assert claims.room_config is not None
    assert [a.agent_name for a in claims.room_config.agents] == [runtime.livekit.agent_name]
    assert sid in claims.room_config.agents[0].metadata
    times = jwt.decode(grant["token"], options={"verify_signature": False})
    ttl = runtime.settings.owner_call_token_ttl_seconds
    assert grant["expires_in"] == ttl and times["exp"] - times["nbf"] <= ttl + 1
    assert times["exp"] > datetime.now(UTC).timestamp()


async def test_only_the_business_owners_may_join(client: httpx.AsyncClient) -> None:
    await create_business(client, "mine-call")
    rival = await create_business(client, "rival-call")
    s = await start_customer(client, "mine-call", channel="voice")
    url = f"/v1/sessions/{s['session_id']}/join-call"
    assert_error(await client.post(url), 401)
    assert_error(await client.post(url, headers=bearer(rival["token"])), 404)
    assert_error(await client.post(url, headers=bearer(s["session_token"])), 404)
    rival_customer = await start_customer(client, "rival-call", channel="voice")
    assert_error(await client.post(url, headers=bearer(rival_customer["session_token"])), 404)


async def test_a_text_session_or_an_ended_call_has_nothing_to_join(
        client: httpx.AsyncClient) -> None:
    owner = await create_business(client, "text-call")
    own = bearer(owner["token"])
    text = await start_customer(client, "text-call")
    assert_error(await client.post(f"/v1/sessions/{text['session_id']}/join-call",
                                   headers=own), 400, "not_a_call")
    voice = await start_customer(client, "text-call", channel="voice")
    r = await client.post(f"/v1/sessions/{voice['session_id']}/end",
                          headers=bearer(voice["session_token"]))
    assert r.status_code == 200
    assert_error(await client.post(f"/v1/sessions/{voice['session_id']}/join-call",
                                   headers=own), 410, "session_ended")
