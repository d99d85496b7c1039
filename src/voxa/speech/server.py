"""``voxa speech``: an OpenAI-compatible speech server for the offline models.

``POST /v1/audio/transcriptions`` (multipart, like OpenAI's), ``POST
/v1/audio/speech`` (JSON; ``wav`` or ``pcm``, 24 kHz mono), ``GET /v1/models``
and ``GET /health``. Voice workers reach it through ``VOXA_STT=openai:whisper-1``
/ ``VOXA_TTS=openai:tts-1`` with the base URL ``http://host:port/v1``; many
workers on many machines can share one. Errors have OpenAI's shape.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from voxa.infra.voices import VoiceCatalog
from voxa.settings import Settings
from voxa.speech import whisper
from voxa.speech.audio import OUTPUT_FORMATS, BadAudio, speech_output, whisper_input
from voxa.speech.replicas import Busy, Replica, ReplicaPool

# "whisper-1" (OpenAI's name, what clients send by default) picks by language.
STT_MODELS = ("whisper-1", whisper.ENGLISH_MODEL, whisper.MULTILINGUAL_MODEL)
TTS_MODELS = ("tts-1", "tts-1-hd", "piper", "espeak-ng")
MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # OpenAI's own limit
MAX_INPUT_CHARS = 4096
RETRY_AFTER_SECONDS = 1


class SpeechRequest(BaseModel):
    model: str = "tts-1"
    input: str = Field(min_length=1, max_length=MAX_INPUT_CHARS)
    voice: str
    response_format: str = "wav"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)


def _error(status: int, message: str, code: str, **headers: str) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "code": code}},
                        status_code=status, headers=headers or None)


def _stt_model(model: str, language: str) -> str:
    if model == "whisper-1":
        return whisper.model_for(language)
    return model


def create_speech_app(settings: Settings, pool: ReplicaPool) -> FastAPI:
    voices = VoiceCatalog.load(settings.voices_file)
    offline = {v.id: v for v in voices if v.source == "local"}
    languages = whisper.recognition_languages()
    key = settings.speech_api_key.get_secret_value() if settings.speech_api_key else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        pool.stop()

    app = FastAPI(title="voxa speech", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)

    @app.middleware("http")
    async def bearer(request: Request, call_next: Any) -> Response:
        if key is not None and request.url.path != "/health":
            sent = request.headers.get("authorization", "")
            if not secrets.compare_digest(sent.encode(), f"Bearer {key}".encode()):
                return _error(401, "a valid bearer key is required", "invalid_api_key")
        response: Response = await call_next(request)
        return response

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return _error(503, f"the speech server is busy: {exc}", "busy",
                      **{"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "replicas": pool.replicas, "pending": pool.pending,
                "capacity": pool.capacity, "served": pool.served}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        ids = [m for m in STT_MODELS if m != whisper.MULTILINGUAL_MODEL
               or whisper.multilingual_installed()] + list(TTS_MODELS)
        return {"object": "list",
                "data": [{"id": m, "object": "model", "owned_by": "voxa"} for m in ids]}

    @app.post("/v1/audio/transcriptions", response_model=None)
    async def transcriptions(
        file: Annotated[UploadFile, File()], model: Annotated[str, Form()] = "whisper-1",
        language: Annotated[str, Form()] = "en",
        response_format: Annotated[str, Form()] = "json",
    ) -> Response | dict[str, Any]:
        language = language.split("-")[0].lower() or "en"
        if language not in languages:
            return _error(400, f"language {language!r} is not supported; supported: "
                          f"{', '.join(sorted(languages))}", "unsupported_language")
        chosen = _stt_model(model, language)
        if chosen not in STT_MODELS or (chosen == whisper.ENGLISH_MODEL and language != "en"):
            return _error(400, f"model {model!r} cannot transcribe {language!r}; models: "
                          f"{', '.join(STT_MODELS)}", "model_not_found")
        if response_format not in ("json", "text", "verbose_json"):
            return _error(400, "response_format must be json, text or verbose_json",
                          "unsupported_response_format")
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            return _error(413, "the audio file is over 25 MB", "file_too_large")
        try:
            audio = whisper_input(data)
        except BadAudio as e:
            return _error(400, str(e), "invalid_audio")

        def work(replica: Replica) -> str:
            return replica.transcribe(audio, model=chosen, language=language)

        text = await pool.run(work)
        if response_format == "text":
            return PlainTextResponse(text)
        if response_format == "verbose_json":
            return {"text": text, "language": language,
                    "duration": round(len(audio) / 16_000, 3), "segments": []}
        return {"text": text}

    @app.post("/v1/audio/speech", response_model=None)
    async def speech(body: SpeechRequest) -> Response:
        if body.response_format not in OUTPUT_FORMATS:
            return _error(400, f"response_format must be one of {', '.join(OUTPUT_FORMATS)}",
                          "unsupported_response_format")
        if body.model not in TTS_MODELS:
            return _error(400, f"model {body.model!r} is not served; models: "
                          f"{', '.join(TTS_MODELS)}", "model_not_found")
        voice = offline.get(body.voice.lower())
        if voice is None:
            return _error(400, f"voice {body.voice!r} is not served; voices: "
                          f"{', '.join(offline)}", "voice_not_found")

        def work(replica: Replica) -> tuple[bytes, int]:
            return replica.speak(voice, body.input, speed=body.speed)

        pcm, rate = await pool.run(work)
        return Response(speech_output(pcm, rate, body.response_format),
                        media_type=OUTPUT_FORMATS[body.response_format])

    return app
