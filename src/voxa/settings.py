"""Typed settings, built by :func:`build_settings` (never at import time).

Precedence: explicit keyword arguments (CLI flags) > environment (``VOXA_*`` and
LiveKit's own ``LIVEKIT_*``) > defaults. Secrets are ``SecretStr`` so they never
show up in reprs or logs.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "devkey", "dev"})


class Environment(StrEnum):
    development = "development"
    production = "production"
    test = "test"


class SignupMode(StrEnum):
    open = "open"
    closed = "closed"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VOXA_", extra="ignore", populate_by_name=True, frozen=True
    )

    env: Environment = Environment.development
    data_dir: Path = Path(".voxa")
    database_url: str | None = None
    redis_url: str | None = None
    # Without Redis: "memory" (in-process) or "sql" (on the database, shared by
    # the processes of one machine; chosen automatically when voice runs embedded).
    store: str = Field(default="memory", pattern="^(memory|sql)$")
    secret_key: SecretStr | None = None
    operator_token: SecretStr | None = None
    signup: SignupMode = SignupMode.open

    llm: str = "local"
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None

    resume_minutes: float = Field(default=30, gt=0)
    session_max_hours: float = Field(default=4, gt=0)
    inactive_hours: float = Field(default=24, gt=0)
    cleanup_interval_seconds: float = Field(default=3600, gt=0)
    agent_heartbeat_seconds: float = Field(default=10, gt=0)

    livekit_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("LIVEKIT_URL", "VOXA_LIVEKIT_URL", "livekit_url"),
    )
    livekit_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("LIVEKIT_API_KEY", "VOXA_LIVEKIT_API_KEY", "livekit_api_key"),
    )
    livekit_api_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "LIVEKIT_API_SECRET", "VOXA_LIVEKIT_API_SECRET", "livekit_api_secret"
        ),
    )
    livekit_agent_name: str = "voxa-agent"
    worker_max_jobs: int = Field(default=8, gt=0)  # concurrent voice sessions per worker
    worker_idle_processes: int = Field(default=1, ge=0)
    # share of worker_max_jobs above which the worker stops taking jobs
    worker_load_threshold: float = Field(default=1.0, gt=0, le=1)
    livekit_token_ttl_minutes: float = Field(default=15, gt=0, le=24 * 60)

    user_token_ttl_hours: float = Field(default=24 * 7, gt=0)
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    max_text_chars: int = Field(default=4000, gt=0)
    turn_queue_limit: int = Field(default=8, gt=0)
    turn_wait_seconds: float = Field(default=60, gt=0)

    # -- voice lifecycle --
    # A caller who says nothing (no speech, no room text) this long is told
    # goodbye and the session ends (reason "silence"): no job slot is held by silence.
    voice_silence_seconds: float = Field(default=120, gt=0)
    # Turns per session, in the ``limits`` notation ("30/minute"); voice jobs
    # apply it to text sent in the room.
    limit_turns_per_session: str = "30/minute"

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    log_format: str = "auto"  # auto | json | console
    log_level: str = "INFO"
    voices_file: Path | None = None

    @field_validator("database_url", "redis_url", "llm_base_url", "livekit_url", mode="before")
    @classmethod
    def _empty_is_none(cls, v: Any) -> Any:
        return None if v == "" else v

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.env is Environment.production:
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if key.lower() in PLACEHOLDER_SECRETS or len(key) < 32:
                raise ValueError(
                    "VOXA_SECRET_KEY must be set to a random value of at least 32 characters "
                    "outside development"
                )
            lk = self.livekit_api_secret.get_secret_value() if self.livekit_api_secret else None
            if lk is not None and lk.lower() in PLACEHOLDER_SECRETS | {"secret"}:
                raise ValueError("LIVEKIT_API_SECRET is a placeholder; refused outside development")
        return self

    # Derived values -------------------------------------------------------
    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'voxa.db').resolve()}"

    @property
    def livekit_configured(self) -> bool:
        return bool(self.livekit_url and self.livekit_api_key and self.livekit_api_secret)

    @property
    def json_logs(self) -> bool:
        if self.log_format == "auto":
            return self.env is Environment.production
        return self.log_format == "json"

    def signing_key(self) -> str:
        """The key that signs bearer and session tokens."""
        if self.secret_key is None:
            raise RuntimeError("settings were built without a secret key; use build_settings()")
        return self.secret_key.get_secret_value()


_ENV_EXPORT = {
    "env": "VOXA_ENV", "data_dir": "VOXA_DATA_DIR", "redis_url": "VOXA_REDIS_URL",
    "store": "VOXA_STORE", "llm": "VOXA_LLM", "llm_base_url": "VOXA_LLM_BASE_URL",
    "resume_minutes": "VOXA_RESUME_MINUTES", "session_max_hours": "VOXA_SESSION_MAX_HOURS",
    "inactive_hours": "VOXA_INACTIVE_HOURS", "agent_heartbeat_seconds":
    "VOXA_AGENT_HEARTBEAT_SECONDS", "livekit_url": "LIVEKIT_URL",
    "livekit_api_key": "LIVEKIT_API_KEY", "livekit_agent_name": "VOXA_LIVEKIT_AGENT_NAME",
    "worker_max_jobs": "VOXA_WORKER_MAX_JOBS",
    "max_text_chars": "VOXA_MAX_TEXT_CHARS",
    "voice_silence_seconds": "VOXA_VOICE_SILENCE_SECONDS",
    "limit_turns_per_session": "VOXA_LIMIT_TURNS_PER_SESSION",
    "voices_file": "VOXA_VOICES_FILE", "log_format": "VOXA_LOG_FORMAT",
}


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment that rebuilds ``settings`` in a child process (voice job
    processes are started by livekit-agents and read their settings from it)."""
    env = {var: str(getattr(settings, name)) for name, var in _ENV_EXPORT.items()
           if getattr(settings, name) is not None}
    env["VOXA_DATA_DIR"] = str(settings.data_dir.resolve())
    env["VOXA_DATABASE_URL"] = settings.effective_database_url
    for name, var in (("secret_key", "VOXA_SECRET_KEY"), ("llm_api_key", "VOXA_LLM_API_KEY"),
                      ("livekit_api_secret", "LIVEKIT_API_SECRET")):
        secret = getattr(settings, name)
        if secret is not None:
            env[var] = secret.get_secret_value()
    return env


def _dev_secret(data_dir: Path) -> SecretStr:
    """A random per-installation key kept in the data dir, so tokens survive restarts."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return SecretStr(path.read_text().strip())


def build_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, with explicit overrides winning.

    ``None`` overrides are ignored so CLI flags that were not given fall through
    to the environment. Outside production a missing secret key is generated
    once and stored under the data dir.
    """
    explicit = {k: v for k, v in overrides.items() if v is not None}
    settings = Settings(**explicit)
    if settings.secret_key is None:
        settings = settings.model_copy(update={"secret_key": _dev_secret(settings.data_dir)})
    return settings
