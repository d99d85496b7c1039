"""A call's per-turn audio, served to whoever may read the session (its holder,
the owner of its business, the operator); anyone else gets 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from voxa.api.deps import ReadableSession, RuntimeDep
from voxa.errors import NotFound
from voxa.storage.audio_store import MEDIA_TYPE, audio_key
from voxa.storage.repos import messages as messages_repo
from voxa.storage.scope import Scope

router = APIRouter(prefix="/v1/sessions", tags=["messages"])


class OggAudio(Response):
    media_type = MEDIA_TYPE


@router.get("/{session_id}/messages/{message_id}/audio", response_class=OggAudio,
            responses={200: {"content": {MEDIA_TYPE: {}},
                             "description": "The turn's audio (OGG/Opus)"}})
async def get_message_audio(row: ReadableSession, rt: RuntimeDep,
                            message_id: Annotated[int, Path(ge=1, le=2**62)]) -> OggAudio:
    async with rt.db() as db:
        message = await messages_repo.get_message(
            db, row.session_id, message_id, scope=Scope.user(row.user_id, row.business_id))
    data = None
    if message is not None and message.audio_url:
        data = await rt.audio.get(audio_key(row.session_id, message_id))
    if data is None:
        raise NotFound("this message has no audio", code="audio_not_found")
    # private: a shared cache must not hand one reader's audio to another
    return OggAudio(data, headers={"Cache-Control": "private, max-age=3600"})
