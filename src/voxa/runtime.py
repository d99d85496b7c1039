"""The process's long-lived services, built from settings by a function and
closed explicitly. The API, the CLI jobs and the voice worker all use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from voxa.auth.tokens import TokenSigner
from voxa.infra.directory import BusinessDirectory
from voxa.infra.livekit_rooms import RoomCloser, livekit_room_closer
from voxa.infra.livekit_tokens import LiveKitTokens
from voxa.infra.voices import VoiceCatalog
from voxa.kv import TTLStore, create_store
from voxa.limits import Limiter, ModelLine
from voxa.limits.limiter import open_storage
from voxa.logs import get_logger
from voxa.metrics import Metrics
from voxa.settings import Environment, Settings
from voxa.speech import spec as speech_spec
from voxa.storage.audio_store import AudioStore, open_audio_store
from voxa.storage.db import create_engine, session_factory
from voxa.storage.migrate import migrate
from voxa.storage.tenancy import rls_bypassed
from voxa.storage.types import utcnow

log = get_logger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]
    store: TTLStore
    signer: TokenSigner
    voices: VoiceCatalog
    livekit: LiveKitTokens | None
    metrics: Metrics = field(default_factory=Metrics)
    directory: BusinessDirectory = field(default_factory=BusinessDirectory)
    rooms: RoomCloser | None = None  # deletes ended sessions' LiveKit rooms
    # Wall clock for business rules (opening hours); tests replace it.
    clock: Callable[[], datetime] = utcnow
    limiter: Limiter = field(init=False)
    model_line: ModelLine = field(init=False)
    audio: AudioStore = field(init=False)  # per-turn audio of calls

    def __post_init__(self) -> None:
        s = self.settings
        # Limit state sits next to the store's keys (the same Redis and prefix).
        storage = open_storage(s.redis_url, prefix=self.store.prefix)
        self.limiter = Limiter(s, storage, on_refused=self._count_refused)
        self.model_line = ModelLine(self.store, total=s.limit_model_slots_total,
                                    ttl=s.model_slot_ttl_seconds,
                                    on_refused=self._count_refused)
        self.audio = open_audio_store(s)

    def _count_refused(self, name: str) -> None:
        # Looked up at call time: the app may swap in its own metrics registry.
        self.metrics.limited.labels(limit=name).inc()

    async def aclose(self) -> None:
        try:
            if self.rooms is not None:
                await self.rooms.aclose()
        finally:
            await self.limiter.aclose()
            await self.store.aclose()
            await self.engine.dispose()


def livekit_tokens(settings: Settings) -> LiveKitTokens | None:
    if not settings.livekit_configured:
        return None
    assert settings.livekit_url and settings.livekit_api_key and settings.livekit_api_secret
    return LiveKitTokens(
        url=settings.livekit_url,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret.get_secret_value(),
        agent_name=settings.livekit_agent_name,
        ttl=timedelta(minutes=settings.livekit_token_ttl_minutes),
    )


async def open_runtime(
    settings: Settings, *, run_migrations: bool = True, store: TTLStore | None = None,
    rooms: RoomCloser | None = None,
) -> Runtime:
    """Connect to the database and store (migrating first unless told not to).
    ``store`` and ``rooms`` replace the ones settings would build (tests)."""
    engine = create_engine(settings.effective_database_url,
                           hide_parameters=settings.env is Environment.production)
    if run_migrations:
        await migrate(engine)
        if await rls_bypassed(engine):
            log.warning("database_role_bypasses_rls",
                        hint="connect as a role that is neither SUPERUSER nor BYPASSRLS, "
                             "or row-level security does not separate tenants")
    operator = settings.operator_token.get_secret_value() if settings.operator_token else None
    return Runtime(
        settings=settings,
        engine=engine,
        db=session_factory(engine),
        # ``is None``: an empty MemoryStore is falsy (it has a length).
        store=store if store is not None else create_store(
            settings.redis_url, prefix=settings.redis_prefix, kind=settings.store,
            database_url=settings.effective_database_url),
        signer=TokenSigner(settings.signing_key(), operator_token=operator),
        voices=VoiceCatalog.load(settings.voices_file,
                                 sources=speech_spec.tts_voice_sources(settings),
                                 languages=speech_spec.recognition_languages(settings)),
        livekit=livekit_tokens(settings),
        rooms=rooms or livekit_room_closer(settings),
    )
