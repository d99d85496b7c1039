"""Per-turn audio of calls (OGG/Opus blobs): under the data directory by
default (``VOXA_AUDIO_STORE=file``) or in an S3-compatible bucket (``s3``).

A blob's key is derived from its message (``{session_id}/{message_id}.ogg``),
so the database only keeps the message's ``audio_url`` (the API path that
serves it) and ``audio_duration_ms``; a session's audio is deleted by prefix.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any, Protocol

from voxa.errors import InvalidInput
from voxa.settings import Settings

MEDIA_TYPE = "audio/ogg"
# a session id as voxa mints them ("{ms}-{uuid}"): the key is a path
_SAFE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,63}")


def validate_session_id(session_id: str) -> None:
    if not _SAFE_ID.fullmatch(session_id):
        raise InvalidInput("not a session id", code="invalid_session_id")


def audio_key(session_id: str, message_id: int) -> str:
    validate_session_id(session_id)
    return f"{session_id}/{int(message_id)}.ogg"


def audio_url(session_id: str, message_id: int) -> str:
    """Where the API serves a message's audio (to its session's readers)."""
    return f"/v1/sessions/{session_id}/messages/{int(message_id)}/audio"


class AudioStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete_session(self, session_id: str) -> int:
        """Delete every blob of one session; how many there were."""
        ...


class FileAudioStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, key, data)

    def _put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # readers never see half a file

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete_session(self, session_id: str) -> int:
        validate_session_id(session_id)
        folder = self.root / session_id
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.iterdir() if p.suffix == ".ogg")
        await asyncio.to_thread(shutil.rmtree, folder, True)
        return count


class S3AudioStore:
    """An S3-compatible bucket through boto3 (installed with ``voxa[s3]``),
    its blocking calls in threads."""

    def __init__(self, settings: Settings) -> None:
        import boto3

        if not settings.audio_s3_bucket:
            raise ValueError("VOXA_AUDIO_STORE=s3 needs VOXA_AUDIO_S3_BUCKET")
        secret = settings.audio_s3_secret_access_key
        self._bucket = settings.audio_s3_bucket
        self._prefix = settings.audio_s3_prefix
        self._client: Any = boto3.client(
            "s3", endpoint_url=settings.audio_s3_endpoint_url,
            region_name=settings.audio_s3_region,
            aws_access_key_id=settings.audio_s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None)

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._client.put_object, Bucket=self._bucket,
                                Key=self._prefix + key, Body=data, ContentType=MEDIA_TYPE)

    async def get(self, key: str) -> bytes | None:
        def read() -> bytes | None:
            try:
                found = self._client.get_object(Bucket=self._bucket, Key=self._prefix + key)
            except self._client.exceptions.NoSuchKey:
                return None
            return bytes(found["Body"].read())
        return await asyncio.to_thread(read)

    async def delete_session(self, session_id: str) -> int:
        validate_session_id(session_id)

        def delete() -> int:
            listed = self._client.list_objects_v2(Bucket=self._bucket,
                                                  Prefix=f"{self._prefix}{session_id}/")
            keys = [{"Key": o["Key"]} for o in listed.get("Contents", [])]
            if keys:
                self._client.delete_objects(Bucket=self._bucket, Delete={"Objects": keys})
            return len(keys)
        return await asyncio.to_thread(delete)


def open_audio_store(settings: Settings) -> AudioStore:
    if settings.audio_store == "s3":
        return S3AudioStore(settings)
    return FileAudioStore(settings.data_dir / "audio")
