"""`voxa speech` for real: a server process on port 0, reached through the
livekit openai plugin exactly as a voice worker with VOXA_STT=openai:whisper-1
/ VOXA_TTS=openai:tts-1 reaches it; its key, its bounded queue, its errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from livekit import rtc
from livekit.agents import APIConnectOptions
from livekit.plugins import openai

from tests.speech_server import speech_server
from tests.voice.heard import heard_as_meant

pytestmark = [pytest.mark.slow]

KEY = "speech-test-key"


@pytest.fixture(scope="module")
def speech_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One replica and no queue, so a second concurrent request is refused."""
    with speech_server(tmp_path_factory.mktemp("speech"), replicas=1, queue=0,
                       key=KEY) as url:
        yield url


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}"}


async def _speak(url: str, text: str, voice: str) -> list[rtc.AudioFrame]:
    tts = openai.TTS(model="tts-1", voice=voice, base_url=url, api_key=KEY,
                     response_format="pcm")
    try:
        stream = tts.synthesize(text, conn_options=APIConnectOptions(timeout=60))
        return [ev.frame async for ev in stream]
    finally:
        await tts.aclose()


async def _hear(url: str, frames: list[rtc.AudioFrame], language: str) -> str:
    stt = openai.STT(model="whisper-1", language=language, base_url=url, api_key=KEY,
                     use_realtime=False)
    try:
        event = await stt.recognize(frames, conn_options=APIConnectOptions(timeout=60))
        return event.alternatives[0].text.lower()
    finally:
        await stt.aclose()


async def test_the_openai_plugin_speaks_and_hears_through_it(speech_url: str) -> None:
    said = "What are your opening hours?"
    frames = await _speak(speech_url, said, "joe")
    assert frames and all(f.sample_rate == 24_000 for f in frames)
    seconds = sum(f.samples_per_channel for f in frames) / 24_000
    assert 0.7 < seconds < 5, seconds  # about 1.5 s of speech, not silence or a loop
    heard = await _hear(speech_url, frames, "en")
    assert heard_as_meant(said, heard, key=["opening", "hours"]), heard


async def test_spanish_through_the_plugin(speech_url: str) -> None:
    """An espeak-ng Spanish voice, heard by the multilingual model."""
    frames = await _speak(speech_url, "Quiero comprar pan, por favor.", "lucia")
    heard = await _hear(speech_url, frames, "es")
    # Whisper base hears espeak-ng's Spanish only roughly ("quiero comprar pan"
    # came back once as "que no tomo nada"; a temperature fallback makes it vary),
    # so the test holds it to what it hears every time: Spanish words, in Spanish.
    assert "por favor" in heard, heard


async def test_models_health_and_the_key(speech_url: str) -> None:
    base = speech_url.removesuffix("/v1")
    async with httpx.AsyncClient(timeout=30) as client:
        assert (await client.get(f"{base}/health")).json()["status"] == "ok"
        r = await client.get(f"{speech_url}/models")
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        r = await client.get(f"{speech_url}/models", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
        r = await client.get(f"{speech_url}/models", headers=_auth())
        ids = {m["id"] for m in r.json()["data"]}
        assert {"whisper-1", "whisper-tiny.en", "whisper-base", "tts-1"} <= ids


@pytest.mark.parametrize("body,code", [
    ({"input": "hi", "voice": "alloy"}, "voice_not_found"),
    ({"input": "hi", "voice": "joe", "response_format": "mp3"}, "unsupported_response_format"),
    ({"input": "hi", "voice": "joe", "model": "gpt-4o-mini-tts"}, "model_not_found"),
])
async def test_speech_refusals(speech_url: str, body: dict[str, Any], code: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(f"{speech_url}/audio/speech", json=body, headers=_auth())
    assert r.status_code == 400 and r.json()["error"]["code"] == code


async def test_transcription_refusals(speech_url: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(f"{speech_url}/audio/transcriptions", headers=_auth(),
                              files={"file": ("a.wav", b"not a wav", "audio/wav")},
                              data={"model": "whisper-1"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_audio"
        r = await client.post(f"{speech_url}/audio/transcriptions", headers=_auth(),
                              files={"file": ("a.wav", b"x", "audio/wav")},
                              data={"model": "whisper-tiny.en", "language": "de"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "model_not_found"


async def test_a_full_queue_is_503_with_retry_after(speech_url: str) -> None:
    """One replica, no queue: of concurrent requests, those that find the
    replica busy are refused at once with Retry-After, and the rest served."""
    body = {"input": "We open at seven every morning, and close at six in the evening.",
            "voice": "joe", "response_format": "pcm"}
    async with httpx.AsyncClient(timeout=120) as client:
        answers = await asyncio.gather(*(
            client.post(f"{speech_url}/audio/speech", json=body, headers=_auth())
            for _ in range(4)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses[0] == 200 and statuses[-1] == 503, statuses
    for r in answers:
        if r.status_code == 503:
            assert r.headers["retry-after"] == "1" and r.json()["error"]["code"] == "busy"
