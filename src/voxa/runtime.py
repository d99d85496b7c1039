"""The process's long-lived services, built from settings by a function and
closed explicitly. The API, the CLI jobs and the voice worker all use it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from voxa.auth.tokens import TokenSigner
from voxa.kv import TTLStore, create_store
from voxa.metrics import Metrics
from voxa.sessions.directory import BusinessDirectory
from voxa.sessions.livekit_rooms import RoomCloser, livekit_room_closer
from voxa.sessions.livekit_tokens import LiveKitTokens
from voxa.sessions.voices import VoiceCatalog
from voxa.settings import Settings
from voxa.storage.db import create_engine, session_factory
from voxa.storage.migrate import migrate


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

    async def aclose(self) -> None:
        try:
            if self.rooms is not None:
                await self.rooms.aclose()
        finally:
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
    engine = create_engine(settings.effective_database_url)
    if run_migrations:
        await migrate(engine)
    operator = settings.operator_token.get_secret_value() if settings.operator_token else None
    return Runtime(
        settings=settings,
        engine=engine,
        db=session_factory(engine),
        store=store or create_store(settings.redis_url, kind=settings.store,
                                    database_url=settings.effective_database_url),
        signer=TokenSigner(settings.signing_key(), operator_token=operator),
        voices=VoiceCatalog.load(settings.voices_file),
        livekit=livekit_tokens(settings),
        rooms=rooms or livekit_room_closer(settings),
    )
