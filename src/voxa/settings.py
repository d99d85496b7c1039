"""Typed settings, built by :func:`build_settings` (never at import time).

Precedence: explicit keyword arguments (CLI flags) > environment (``VOXA_*`` and
LiveKit's own ``LIVEKIT_*``) > defaults. Secrets are ``SecretStr`` so they never
show up in reprs or logs.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# A CSP source expression without quotes, spaces or semicolons (no header injection).
_CSP_SOURCE = re.compile(r"^(wss?|https?)://(\*\.)?[a-z0-9.-]+(:[0-9]{1,5})?$")
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
    # Prepended to every key voxa writes to Redis (store and limit counters), so
    # several deployments or test servers can share one Redis without sharing state.
    redis_prefix: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$")
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

    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    max_text_chars: int = Field(default=4000, gt=0)
    turn_queue_limit: int = Field(default=8, gt=0)
    turn_wait_seconds: float = Field(default=60, gt=0)
    # -- scale-out (turns across API processes) --
    # A text turn's lease in the shared store: renewed every third of this while
    # the turn runs; a crashed process's turn frees its session after it.
    turn_lease_seconds: float = Field(default=5, gt=0)

    # -- page security headers --
    # Extra origins the pages may connect to, on top of their own and the
    # LiveKit URL's (e.g. LiveKit Cloud's region hosts: "wss://*.livekit.cloud").
    csp_connect_src: list[str] = Field(default_factory=list)

    # -- credentials (browser cookie sessions, revocable account tokens) --
    # Lifetime of account tokens (bearer and the pages' session cookie).
    user_token_ttl_hours: float = Field(default=12, gt=0, le=24 * 30)
    # Secure flag on the session cookies: None = when the request came over https.
    cookie_secure: bool | None = None
    # -- operator endpoints, API docs --
    # /readyz and /metrics answer only to the operator token (401 otherwise);
    # unset: on in production, off in development and test.
    protect_operator_endpoints: bool | None = None
    # /docs and /openapi.json; unset: off in production, on otherwise.
    docs: bool | None = None

    # -- limits and quotas (voxa.limits; rates in the `limits` notation, "N/period",
    # several separated by ";"; per-business overrides in businesses.limits) --
    # Failed logins per account (unknown e-mails too); each tier that fills
    # locks the account for the rest of its window, so repeated failures lengthen
    # the lockout; a successful login clears them.
    limit_login_per_account: str = "5/minute;10/hour;20/day"
    limit_login_per_address: str = "20/minute;200/hour"  # every attempt from one address
    limit_signup_per_address: str = "30/hour"  # business and general signups
    limit_session_starts_per_address: str = "60/minute"
    limit_session_starts_per_business: str = "600/minute"
    limit_turns_per_session: str = "30/minute"  # HTTP and voice text
    limit_turns_per_customer: str = "60/minute"  # per user id, across their sessions
    limit_tickets_per_user: str = "10/hour"
    limit_memories_per_user: str = "60/hour"
    limit_active_sessions_per_business: int = Field(default=500, gt=0)
    limit_voice_sessions_per_business: int = Field(default=20, gt=0)
    # The shared model's waiting line: calls in flight or queued at the model,
    # at most `per_business` of `total` for any one business.
    limit_model_slots_total: int = Field(default=64, gt=0)
    limit_model_slots_per_business: int = Field(default=16, gt=0)
    model_slot_ttl_seconds: float = Field(default=30, gt=0)
    # CIDRs of reverse proxies whose X-Forwarded-For is believed (comma-separated
    # or a JSON list); empty: the socket's peer is the client.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # -- voice lifecycle --
    # A caller who says nothing (no speech, no room text) this long is told
    # goodbye and the session ends (reason "silence"): no job slot is held by silence.
    voice_silence_seconds: float = Field(default=120, gt=0)

    # -- deployment and tracing --
    # The voice worker's health endpoint (livekit-agents: GET / and /worker);
    # 0 = a free port. Containers set a fixed port on 0.0.0.0 for their probes.
    worker_http_host: str = "127.0.0.1"
    worker_http_port: int = Field(default=0, ge=0, le=65535)
    # Prometheus endpoint of the voice worker (lk_agents_active_job_count,
    # lk_agents_worker_load: what the workers' autoscaler reads); None = off.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # OpenTelemetry traces (exported over OTLP, configured by the standard
    # OTEL_* variables); None = on when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    tracing: bool | None = None

    # -- webhooks --
    # Deliver to loopback/private/link-local addresses and plain http (tests,
    # a receiver on the same private network). Off: such targets are refused
    # at registration and again at send time, after resolving the host.
    webhooks_allow_private: bool = False
    webhooks_max_endpoints_per_business: int = Field(default=10, gt=0)
    webhooks_timeout_seconds: float = Field(default=10, gt=0, le=60)
    webhooks_max_attempts: int = Field(default=8, gt=0, le=30)
    # first retry after this, doubling each time (capped at 6 hours)
    webhooks_retry_base_seconds: float = Field(default=30, gt=0)
    webhooks_poll_seconds: float = Field(default=2, gt=0)

    # -- knowledge base --
    # Per business: documents kept, characters of extracted text per document,
    # uploads (creates and replacements) per window; passages given to each turn.
    knowledge_max_documents: int = Field(default=200, gt=0)
    knowledge_max_document_chars: int = Field(default=50_000, gt=0)
    limit_knowledge_uploads_per_business: str = "60/hour"
    knowledge_passages_per_turn: int = Field(default=3, gt=0, le=10)
    # Passages are also found by meaning (offline sentence embeddings), fused
    # with the full-text ranking; a passage must be at least this similar
    # (cosine) to count, and at most this many of a business's passages are
    # compared per turn (the newest first).
    knowledge_embeddings: bool = True
    knowledge_min_similarity: float = Field(default=0.3, ge=0, le=1)
    knowledge_embedding_scan: int = Field(default=20_000, gt=0)
    # -- owner live events (handoff alerts) --
    # Server-Sent Events streams open at once per business (across processes);
    # one more answers 429. Heartbeat comments keep proxies from closing idle
    # streams; a stream ends after max_seconds and EventSource reconnects.
    owner_events_max_streams: int = Field(default=5, gt=0, le=100)
    owner_events_poll_seconds: float = Field(default=0.5, gt=0, le=10)
    owner_events_heartbeat_seconds: float = Field(default=15, gt=0, le=300)
    owner_events_max_seconds: float = Field(default=3600, gt=0)

    # -- graceful drain (cluster) --
    # SIGTERM to a voice worker: it stops taking jobs and lets its calls end,
    # at most this long (then they are closed); a second SIGTERM closes at once.
    # Keep the orchestrator's grace period (terminationGracePeriodSeconds,
    # stop_grace_period) a little longer.
    worker_drain_seconds: float = Field(default=540, gt=0)
    # SIGTERM to `voxa serve`: it stops accepting connections and lets the
    # requests in flight (text turns) finish, at most this long.
    api_drain_seconds: float = Field(default=25, gt=0)
    # -- speech providers --
    # Recognition (STT) and speech (TTS): "local" (the offline engines, in the
    # worker's inference process) or "<provider>:<model>" for a LiveKit plugin;
    # "openai:<model>" reaches OpenAI or any OpenAI-compatible speech server
    # (`voxa speech` included) at *_BASE_URL with *_API_KEY.
    stt: str = Field(default="local", pattern=r"^(local|[a-z][a-z0-9_-]*:\S+)$")
    stt_base_url: str | None = None
    stt_api_key: SecretStr | None = None
    tts: str = Field(default="local", pattern=r"^(local|[a-z][a-z0-9_-]*:\S+)$")
    tts_base_url: str | None = None
    tts_api_key: SecretStr | None = None
    # `voxa speech`: model replicas (each owns its models and serves one request
    # at a time), requests waiting beyond them (then 503 + Retry-After), and an
    # optional bearer key clients must send.
    speech_replicas: int = Field(default=1, ge=1, le=16)
    speech_queue: int = Field(default=16, ge=0, le=1000)
    speech_api_key: SecretStr | None = None
    # Where the embedded `serve` runs speech for its worker: "inference" (the
    # worker's inference process) or "server" (a `voxa speech` it starts on a
    # free loopback port, with `serve_speech_replicas` replicas).
    serve_speech: str = Field(default="inference", pattern="^(inference|server)$")
    serve_speech_replicas: int = Field(default=2, ge=1, le=16)

    # -- voice takeover --
    # The owner's token for joining a customer's call (POST
    # /v1/sessions/{id}/join-call) only has to last until the browser connects.
    owner_call_token_ttl_seconds: int = Field(default=120, ge=10, le=3600)
    # What the agent says when the owner leaves the call ("" = nothing).
    owner_call_resume_line: str = Field(
        default="I'm back. Is there anything else I can help you with?", max_length=300)
    # -- conversation pipeline (text and voice turns) --
    # Messages each turn sees; past summary_trim_at unsummarised messages the
    # oldest (all but the window) are folded into the session's running summary.
    conversation_window: int = Field(default=20, gt=0)
    summary_trim_at: int = Field(default=50, gt=1)
    # A voice turn whose model has not answered within this bound is given the
    # fallback line instead (the caller is never left in silence).
    voice_model_timeout_seconds: float = Field(default=15, gt=0)

    # -- per-turn audio of calls --
    # Each user and agent turn of a call is kept as OGG/Opus, under the data
    # directory (file) or in an S3-compatible bucket (s3), and deleted with the
    # session's audio once the session ended this many days ago (the cleanup job).
    audio_keep: bool = True
    audio_store: Literal["file", "s3"] = "file"
    audio_retention_days: float = Field(default=30, gt=0)
    audio_s3_bucket: str | None = None
    audio_s3_prefix: str = ""
    audio_s3_endpoint_url: str | None = None
    audio_s3_region: str | None = None
    audio_s3_access_key_id: str | None = None
    audio_s3_secret_access_key: SecretStr | None = None

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    log_format: str = "auto"  # auto | json | console
    log_level: str = "INFO"
    voices_file: Path | None = None

    @field_validator("csp_connect_src")
    @classmethod
    def _connect_sources(cls, v: list[str]) -> list[str]:
        for source in v:
            if not _CSP_SOURCE.match(source):
                raise ValueError(f"{source!r} is not a scheme://host[:port] CSP source")
        return v

    @field_validator("database_url", "redis_url", "llm_base_url", "livekit_url",
                     "stt_base_url", "tts_base_url", mode="before")
    @classmethod
    def _empty_is_none(cls, v: Any) -> Any:
        return None if v == "" else v

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            if v.startswith("["):
                return json.loads(v)
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, v: list[str]) -> list[str]:
        return [str(ipaddress.ip_network(p, strict=False)) for p in v]

    @field_validator("limit_login_per_account", "limit_login_per_address",
                     "limit_signup_per_address", "limit_session_starts_per_address",
                     "limit_session_starts_per_business", "limit_turns_per_session",
                     "limit_turns_per_customer", "limit_tickets_per_user",
                     "limit_memories_per_user", "limit_knowledge_uploads_per_business")
    @classmethod
    def _valid_rate(cls, v: str) -> str:
        from limits import parse_many

        try:
            items = parse_many(v)
        except ValueError as exc:
            raise ValueError(f"not a rate limit such as '5/minute': {v!r}") from exc
        if not items or any(i.amount <= 0 for i in items):
            raise ValueError(f"a rate limit must allow at least one request: {v!r}")
        return v

    @model_validator(mode="after")
    def _window_within_fold(self) -> Settings:
        if self.conversation_window > self.summary_trim_at:
            raise ValueError("VOXA_CONVERSATION_WINDOW must not exceed VOXA_SUMMARY_TRIM_AT")
        return self

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
    def operator_endpoints_protected(self) -> bool:
        if self.protect_operator_endpoints is not None:
            return self.protect_operator_endpoints
        return self.env is Environment.production

    @property
    def docs_enabled(self) -> bool:
        return self.docs if self.docs is not None else self.env is not Environment.production

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


def env_name(name: str) -> str:
    """The environment variable a field is read from (its first alias, or
    ``VOXA_<NAME>``)."""
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        if isinstance(first, str):
            return first
    if isinstance(alias, str):
        return alias
    return f"VOXA_{name.upper()}"


def _env_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return str(value.resolve())
    if isinstance(value, list | dict | tuple):
        return json.dumps(value)
    return str(value)


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment that rebuilds ``settings`` in a child process (voice job
    processes are started by livekit-agents and read their settings from it).

    Every field goes, so a new setting reaches the jobs without being listed
    anywhere; a field left at None is left out (the child's default is None too)."""
    env = {env_name(name): _env_value(getattr(settings, name))
           for name in Settings.model_fields if getattr(settings, name) is not None}
    env["VOXA_DATABASE_URL"] = settings.effective_database_url
    return env


def _dev_secret(data_dir: Path) -> SecretStr:
    """A random per-installation key kept in the data dir, so tokens survive restarts.

    The file is born 0600 and complete: written under a private temporary name,
    then linked to ``secret_key`` (link fails if it exists), so two processes
    starting at once both end up reading the one key that won, and nobody ever
    reads a half-written or world-readable key.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if not path.exists():
        tmp = data_dir / f".secret_key.{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # atomic; the loser of a race keeps the winner's key
        finally:
            tmp.unlink(missing_ok=True)
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)  # written by an older version, readable by others
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
