from __future__ import annotations

from fastapi import APIRouter

from voxa.api.deps import RuntimeDep
from voxa.api.schemas import VoiceOut

router = APIRouter(prefix="/v1", tags=["voices"])


@router.get("/voices", response_model=list[VoiceOut])
async def list_voices(rt: RuntimeDep) -> list[VoiceOut]:
    """Every catalog voice, with where it comes from and whether this
    deployment's speech provider (``VOXA_TTS``) speaks it."""
    return [VoiceOut(**v.public(), available=rt.voices.available(v)) for v in rt.voices]
