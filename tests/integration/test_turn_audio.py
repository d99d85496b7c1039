"""Per-turn audio of calls: encoded as OGG/Opus, stored under the data
directory, served to the session's readers only (anyone else: 404) and deleted
by the cleanup job once the session ended longer ago than the retention.
(A real call storing its turns' audio: tests/voice/test_pipeline_parity.py.)"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from livekit import rtc
from sqlalchemy import update

from tests.conftest import make_settings
from tests.helpers import assert_error, bearer, create_business, start_customer
from voxa.errors import InvalidInput
from voxa.jobs.cleanup import run_cleanup
from voxa.runtime import Runtime
from voxa.storage.audio_store import (
    FileAudioStore,
    S3AudioStore,
    audio_key,
    audio_url,
    open_audio_store,
)
from voxa.storage.models import AgentSession
from voxa.storage.repos import messages as messages_repo
from voxa.storage.scope import Scope
from voxa.storage.types import utcnow
from voxa.voice.recording import PAD_S, encode_ogg_opus, trim_silence

SID = "1795330678048-50b85e72-29ee-46f7-988c-3c5c06630cc1"


def tone(seconds: float, rate: int) -> rtc.AudioFrame:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (np.sin(2 * np.pi * 330 * t) * 8000).astype(np.int16)
    return rtc.AudioFrame(pcm.tobytes(), rate, 1, len(pcm))


def test_turn_audio_is_ogg_opus_of_the_right_length() -> None:
    data, ms = encode_ogg_opus([tone(0.5, 22_050), tone(0.75, 22_050)])
    assert data[:4] == b"OggS" and 1200 <= ms <= 1300
    with av.open(io.BytesIO(data)) as c:
        stream = c.streams.audio[0]
        assert stream.codec_context.name == "opus"
        decoded = sum(f.samples for f in c.decode(stream)) / 48_000
    assert abs(decoded - 1.25) < 0.05
    assert len(data) < 1.25 * 22_050 * 2 / 4  # compressed: under a quarter of the PCM


async def test_file_store_keeps_and_deletes_a_sessions_audio(tmp_path: Path) -> None:
    store = FileAudioStore(tmp_path / "audio")
    await store.put(audio_key(SID, 7), b"OggS one")
    await store.put(audio_key(SID, 8), b"OggS two")
    assert await store.get(audio_key(SID, 7)) == b"OggS one"
    assert await store.get(audio_key(SID, 9)) is None
    assert await store.delete_session(SID) == 2
    assert await store.get(audio_key(SID, 8)) is None
    assert not (tmp_path / "audio" / SID).exists()
    with pytest.raises(InvalidInput):
        audio_key("../../etc", 1)


async def _turn_with_audio(client: httpx.AsyncClient, runtime: Runtime, slug: str,
                           ) -> tuple[dict[str, str], int, bytes]:
    s = await start_customer(client, slug)
    r = await client.post(f"/v1/sessions/{s['session_id']}/messages", json={"text": "hello"},
                          headers=bearer(s["session_token"]))
    assert r.status_code == 200, r.text
    mid = r.json()["message"]["id"]
    data, ms = encode_ogg_opus([tone(0.4, 48_000)])
    await runtime.audio.put(audio_key(s["session_id"], mid), data)
    async with runtime.db() as db:
        assert await messages_repo.set_audio(db, s["session_id"], mid,
                                             url=audio_url(s["session_id"], mid),
                                             duration_ms=ms, scope=Scope.system())
        await db.commit()
    return s, mid, data


async def test_audio_is_served_to_the_sessions_readers_only(client: httpx.AsyncClient,
                                                           runtime: Runtime) -> None:
    owner_a = await create_business(client, "audio-a")
    owner_b = await create_business(client, "audio-b")
    s, mid, data = await _turn_with_audio(client, runtime, "audio-a")
    other = await start_customer(client, "audio-b")
    same_business = await start_customer(client, "audio-a")
    url = f"/v1/sessions/{s['session_id']}/messages/{mid}/audio"

    r = await client.get(f"/v1/sessions/{s['session_id']}/messages",
                         headers=bearer(s["session_token"]))
    listed = r.json()["messages"][0]
    assert listed["audio_url"] == url and 350 <= listed["audio_duration_ms"] <= 450
    for token in (s["session_token"], owner_a["token"]):
        r = await client.get(url, headers=bearer(token))
        assert r.status_code == 200 and r.content == data
        assert r.headers["content-type"] == "audio/ogg"
        assert "private" in r.headers["cache-control"]
    for token in (other["session_token"], same_business["session_token"], owner_b["token"]):
        assert_error(await client.get(url, headers=bearer(token)), 404, "session_not_found")
    assert_error(await client.get(url), 401)
    # the reply has no audio; a message of another session is not this one's
    reply = f"/v1/sessions/{s['session_id']}/messages/{mid + 1}/audio"
    assert_error(await client.get(reply, headers=bearer(s["session_token"])), 404,
                 "audio_not_found")
    _, omid, _ = await _turn_with_audio(client, runtime, "audio-b")
    assert_error(await client.get(f"/v1/sessions/{s['session_id']}/messages/{omid}/audio",
                                  headers=bearer(s["session_token"])), 404, "audio_not_found")


async def test_cleanup_deletes_audio_after_the_retention(client: httpx.AsyncClient,
                                                         runtime: Runtime) -> None:
    await create_business(client, "audio-keep")
    old, old_mid, _ = await _turn_with_audio(client, runtime, "audio-keep")
    recent, recent_mid, _ = await _turn_with_audio(client, runtime, "audio-keep")
    active, active_mid, _ = await _turn_with_audio(client, runtime, "audio-keep")
    for s in (old, recent):
        r = await client.post(f"/v1/sessions/{s['session_id']}/end",
                              headers=bearer(s["session_token"]))
        assert r.status_code == 200, r.text
    days = runtime.settings.audio_retention_days
    async with runtime.db() as db:
        await db.execute(update(AgentSession).where(
            AgentSession.session_id == old["session_id"]).values(
            ended_at=utcnow() - timedelta(days=days, minutes=1)))
        await db.commit()

    report = await run_cleanup(runtime, use_lock=False)

    assert report.audio_deleted == 1
    assert await runtime.audio.get(audio_key(old["session_id"], old_mid)) is None
    r = await client.get(f"/v1/sessions/{old['session_id']}/messages",
                         headers=bearer(old["session_token"]))
    assert [m["audio_url"] for m in r.json()["messages"]] == [None, None]
    for s, mid in ((recent, recent_mid), (active, active_mid)):
        assert await runtime.audio.get(audio_key(s["session_id"], mid)) is not None
    assert (await run_cleanup(runtime, use_lock=False)).audio_deleted == 0


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible HTTP server, on a free loopback port."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


async def test_s3_store_keeps_and_deletes_a_sessions_audio(tmp_path: Path,
                                                           s3_endpoint: str) -> None:
    import boto3

    settings = make_settings(tmp_path, audio_store="s3", audio_s3_bucket="calls",
                             audio_s3_prefix="voxa/", audio_s3_endpoint_url=s3_endpoint,
                             audio_s3_region="us-east-1", audio_s3_access_key_id="test",
                             audio_s3_secret_access_key="test-secret")
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test-secret",
                 ).create_bucket(Bucket="calls")
    store = open_audio_store(settings)
    assert isinstance(store, S3AudioStore)
    other = SID.replace("50b85e72", "60b85e72")
    await store.put(audio_key(SID, 7), b"OggS one")
    await store.put(audio_key(SID, 8), b"OggS two")
    await store.put(audio_key(other, 9), b"OggS other")
    assert await store.get(audio_key(SID, 7)) == b"OggS one"
    assert await store.get(audio_key(SID, 10)) is None
    assert await store.delete_session(SID) == 2
    assert await store.get(audio_key(SID, 8)) is None
    assert await store.get(audio_key(other, 9)) == b"OggS other"


def test_a_callers_turn_is_kept_without_the_silence_around_it() -> None:
    rate = 48_000
    quiet = rtc.AudioFrame(bytes(960 * 2), rate, 1, 960)  # 20 ms frames
    words = tone(0.02, rate)
    frames = [quiet] * 200 + [words] * 50 + [quiet] * 200  # 4 s, 1 s of it speech
    kept = trim_silence(frames)
    assert abs(len(kept) * 0.02 - (1.0 + 2 * PAD_S)) < 0.05
    assert trim_silence([quiet] * 10) == []
