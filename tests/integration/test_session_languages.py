"""A session's language through the API: refused (422, naming the supported
languages) when recognition cannot hear it, otherwise kept with a voice that
speaks it; the voice list says what this deployment speaks; a business's
default voice must be one of those."""

from __future__ import annotations

import httpx

from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.runtime import Runtime


async def test_language_chosen_voice_and_refusal(client: httpx.AsyncClient,
                                                 runtime: Runtime) -> None:
    await create_business(client, "idiomas")
    s = await start_customer(client, "idiomas", config={"language": "es"})
    r = await client.get(f"/v1/sessions/{s['session_id']}", headers=bearer(s["session_token"]))
    config = r.json()["config"]
    assert config["language"] == "es" and config["voice"] == "lucia"
    r = await client.patch(f"/v1/sessions/{s['session_id']}/config", json={"language": "de"},
                           headers=bearer(s["session_token"]))
    assert r.status_code == 200 and r.json()["config"]["voice"] == "hanna"
    # "xx" is well-formed but no recognizer here knows it: refused, nothing stored
    r = await client.post("/v1/sessions", json={"role": "customer", "business": "idiomas",
                                                "config": {"language": "xx"}})
    assert_error(r, 422, "unsupported_language")
    assert "supported languages:" in r.json()["error"]["message"]
    assert " es," in r.json()["error"]["message"]


async def test_voices_say_what_is_available(client: httpx.AsyncClient,
                                            runtime: Runtime) -> None:
    voices = {v["id"]: v for v in (await client.get("/v1/voices")).json()}
    assert voices["joe"] == {"id": "joe", "name": "Joe", "engine": "piper", "language": "en-US",
                             "source": "local", "available": True}
    assert voices["lucia"]["language"] == "es-ES" and voices["lucia"]["available"]
    assert voices["openai-alloy"]["source"] == "openai"
    assert not voices["openai-alloy"]["available"]  # VOXA_TTS=local here


async def test_business_default_voice(client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await create_business(client, "voz-co")
    url, h = "/v1/businesses/voz-co/agent", bearer(owner["token"])
    assert_error(await client.patch(url, json={"default_voice": "openai-alloy"}, headers=h),
                 422, "voice_unavailable")
    assert_error(await client.patch(url, json={"default_voice": "nobody"}, headers=h),
                 400, "unknown_voice")
    r = await client.patch(url, json={"default_voice": "craig"}, headers=h)
    assert r.status_code == 200 and r.json()["default_voice"] == "craig"
    s = await start_customer(client, "voz-co")
    r = await client.get(f"/v1/sessions/{s['session_id']}", headers=bearer(s["session_token"]))
    assert r.json()["config"]["voice"] == "craig"
    # a session in another language gets a voice that speaks it instead
    s = await start_customer(client, "voz-co", config={"language": "fr"})
    r = await client.get(f"/v1/sessions/{s['session_id']}", headers=bearer(s["session_token"]))
    assert r.json()["config"]["voice"] == "camille"
