"""Session operations: start, resume, end, config. Authorization is decided in
``voxa.sessions.access``; the lifecycle in ``voxa.sessions.lifecycle``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.auth.principal import AccountPrincipal, OperatorPrincipal, Principal, PrincipalKind
from voxa.domain import Role, SessionStatus
from voxa.errors import Forbidden, Gone, InvalidInput, NotFound, Unauthenticated
from voxa.identity import (
    customer_identity,
    issue_customer_id,
    normalize_email,
    user_id_for,
    verify_customer_id,
)
from voxa.infra.livekit_tokens import TokenRequest
from voxa.kv.keys import config_key, session_key
from voxa.limits.admission import admit_start
from voxa.logs import get_logger
from voxa.persona.prompts import greeting_for
from voxa.runtime import Runtime
from voxa.sessions.agent_dispatch import ensure_agent
from voxa.sessions.config import (
    SessionConfigPatch,
    cache_config,
    load_config,
    resolve_config,
    store_config,
)
from voxa.sessions.ids import new_session_id
from voxa.sessions.lifecycle import close_session, expire_if_overdue
from voxa.sessions.rooms import build_room_name
from voxa.storage.models import AgentConfig, AgentSession, Business, Profile
from voxa.storage.repos import businesses as businesses_repo
from voxa.storage.repos import profiles as profiles_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.session_state import SessionState
from voxa.storage.tenancy import bind_db_scope_now
from voxa.storage.types import utcnow

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CustomerInfo:
    name: str | None = None
    email: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True, slots=True)
class StartRequest:
    role: Role
    channel: str
    business: str | None = None
    agent_id: str | None = None
    config: dict[str, Any] | None = None
    customer: CustomerInfo | None = None
    ip_address: str | None = None
    website_domain: str | None = None


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """A session plus the credentials its holder needs (start and resume)."""

    row: AgentSession
    business_slug: str | None
    session_token: str
    expires_at: datetime
    resume_until: datetime
    livekit_token: str | None
    customer_id: str | None = None
    greeting: str | None = None


@dataclass(frozen=True, slots=True)
class _Who:
    user_id: str
    display_name: str
    business: Business | None
    customer_id: str | None = None
    new_profile: Profile | None = None
    returning: bool = False
    default_agent: AgentConfig | None = None


async def _resolve_business(rt: Runtime, db: AsyncSession, slug: str | None
                            ) -> tuple[Business, AgentConfig | None]:
    if not slug:
        raise InvalidInput("this role needs a business", code="business_required")
    found = await rt.directory.lookup(db, slug, versions=rt.store)
    if found is None or found[0].status != "active":
        raise NotFound(f"unknown business {slug!r}", code="unknown_business")
    return found


async def _resolve_who(
    rt: Runtime, db: AsyncSession, req: StartRequest, principal: Principal | None
) -> _Who:
    """Identity and business from verified credentials; the body only asks."""
    if req.role is Role.customer:
        business, agent = await _resolve_business(rt, db, req.business)
        info = req.customer or CustomerInfo()
        secret = rt.settings.signing_key()
        returning = bool(info.customer_id)
        if info.customer_id:
            customer_id = verify_customer_id(secret, business.id, info.customer_id)
        else:
            customer_id = issue_customer_id(secret, business.id)
        identity = customer_identity(business.id, customer_id)
        user_id = user_id_for(identity)
        new_profile = None
        # A freshly issued id has no profile yet: only returning customers are looked up.
        if not returning or await profiles_repo.get_by_id(db, user_id) is None:
            new_profile = Profile(
                id=user_id,
                identity=identity,
                kind="customer",
                business_id=business.id,
                email=normalize_email(info.email) if info.email else None,
                display_name=info.name,
            )
        return _Who(user_id, info.name or "Guest", business, customer_id, new_profile,
                    returning, agent)

    if principal is None:
        raise Unauthenticated(f"a {req.role} session needs a bearer token")
    if not isinstance(principal, AccountPrincipal) or principal.kind != PrincipalKind(req.role):
        raise Forbidden(
            f"these credentials cannot start a {req.role} session", code="role_not_allowed"
        )
    profile = await profiles_repo.get_by_id(db, principal.user_id)
    if profile is None:
        raise Unauthenticated("account no longer exists", code="invalid_token")
    name = profile.display_name or (profile.email or "there").split("@")[0]
    if req.role is Role.general:
        if req.business:
            raise InvalidInput("a general session has no business", code="invalid_business")
        return _Who(profile.id, name, None)
    own, agent = (
        await _resolve_business(rt, db, req.business)
        if req.business
        else (await businesses_repo.get_by_id(db, principal.business_id or ""), None)
    )
    if own is None or own.id != principal.business_id:
        raise Forbidden(
            "owners can only start sessions of their own business", code="role_not_allowed"
        )
    return _Who(profile.id, name, own, default_agent=agent)


async def _resolve_agent(db: AsyncSession, req: StartRequest, who: _Who) -> AgentConfig:
    bid = who.business.id if who.business else None
    if req.agent_id:
        agent = await businesses_repo.get_agent(db, req.agent_id, business_id=bid)
    else:
        agent = who.default_agent or await businesses_repo.default_agent(db, business_id=bid)
    if agent is None:
        raise NotFound("agent not found", code="unknown_agent")
    return agent


def _summary(row: AgentSession, slug: str | None) -> str:
    return json.dumps(
        {
            "session_id": row.session_id,
            "role": row.role,
            "business_id": row.business_id,
            "business": slug,
            "user_id": row.user_id,
            "room_name": row.room_name,
            "channel": row.channel,
            "status": row.status,
        }
    )


def issue_grant(
    rt: Runtime,
    row: AgentSession,
    slug: str | None,
    display_name: str,
    customer_id: str | None = None,
    greeting: str | None = None,
) -> SessionGrant:
    s = rt.settings
    expires_at = row.started_at + timedelta(hours=s.session_max_hours)
    resume_until = min(expires_at, row.last_activity_at + timedelta(minutes=s.resume_minutes))
    session_token = rt.signer.session_token(
        session_id=row.session_id,
        user_id=row.user_id,
        role=row.role,
        business_id=row.business_id,
        expires_at=expires_at,
    )
    lk = None
    if rt.livekit is not None:
        lk = rt.livekit.mint(
            TokenRequest(
                room_name=row.room_name,
                role=row.role,
                user_id=row.user_id,
                display_name=display_name,
                business_slug=slug,
                session_id=row.session_id,
                timestamp_ms=int(utcnow().timestamp() * 1000),
            )
        )
    return SessionGrant(row, slug, session_token, expires_at, resume_until, lk, customer_id,
                        greeting)


async def start_session(
    rt: Runtime, req: StartRequest, principal: Principal | None
) -> SessionGrant:
    if req.channel not in ("text", "voice", "phone"):
        raise InvalidInput("channel must be text, voice or phone", code="invalid_channel")
    async with rt.db() as db:
        who = await _resolve_who(rt, db, req, principal)
        # The session's tenant, now that it is known (an anonymous customer's
        # request had none), for this transaction and the one writing the row.
        await bind_db_scope_now(db, Scope.user(who.user_id,
                                               who.business.id if who.business else None))
        agent = await _resolve_agent(db, req, who)
        await admit_start(rt.limiter, db, business=who.business, channel=req.channel,
                          address=req.ip_address or "unknown")
        config = resolve_config(agent.default_config or {}, req.config or {}, rt.voices)
        session_id = new_session_id()
        slug = who.business.slug if who.business else None
        now = utcnow()
        row = AgentSession(
            session_id=session_id,
            agent_id=agent.id,
            business_id=who.business.id if who.business else None,
            role=str(req.role),
            user_id=who.user_id,
            channel=req.channel,
            room_name=build_room_name(req.role, slug, session_id),
            status=SessionStatus.active,
            config=config.model_dump(),
            website_domain=req.website_domain,
            ip_address=req.ip_address,
            message_count=0,
            context_data={"display_name": who.display_name},
            started_at=now,
            last_activity_at=now,
        )
        # Cache keys first, then the row: a session that is not committed yet
        # cannot be ended, so these writes can never revive an ended one. The
        # read transaction ends before any store call (the SQL store would wait
        # on its lock); the row goes in with a transaction of its own.
        await db.commit()
        ttl = rt.settings.session_max_hours * 3600
        keys = (session_key(session_id), config_key(session_id))
        await rt.store.set(keys[0], _summary(row, slug), ttl=ttl)
        await cache_config(rt.store, row, row.config, max_hours=rt.settings.session_max_hours)
        try:
            if who.new_profile is not None and who.returning:
                try:
                    async with db.begin_nested():
                        db.add(who.new_profile)
                except IntegrityError:
                    pass  # the same customer's concurrent first session created it
            elif who.new_profile is not None:
                db.add(who.new_profile)
            db.add(row)
            await db.commit()
        except BaseException:
            await rt.store.delete(*keys)
            raise
    rt.metrics.sessions_started.labels(role=row.role, channel=row.channel).inc()
    log.info(
        "session_started",
        session_id=session_id,
        role=row.role,
        business=slug,
        channel=row.channel,
        voice=config.voice,
    )
    log.info("session_config_stored", session_id=session_id, voice=config.voice)
    greeting = greeting_for(row.role, name=who.display_name,
                            business=who.business.name if who.business else None,
                            overrides=agent.greeting)
    return issue_grant(rt, row, slug, who.display_name, who.customer_id, greeting)


async def business_slug(rt: Runtime, row: AgentSession) -> str | None:
    if row.business_id is None:
        return None
    async with rt.db() as db:
        business = await businesses_repo.get_by_id(db, row.business_id)
    return business.slug if business else None


async def resume_session(rt: Runtime, row: AgentSession) -> SessionGrant:
    """Fresh credentials for the same session and room, inside the resume window."""
    row = await expire_if_overdue(rt, row)
    if row.status != SessionStatus.active:
        raise Gone("the session has ended; start a new one", code="session_ended")
    window_end = row.last_activity_at + timedelta(minutes=rt.settings.resume_minutes)
    if utcnow() > window_end:
        raise Gone("the resume window has passed; start a new one", code="resume_window_passed")
    async with rt.db() as db:
        if not await sessions_repo.touch(db, row.session_id, scope=Scope.owning(row)):
            raise Gone("the session has ended; start a new one", code="session_ended")
        await db.commit()
        fresh = await sessions_repo.get(db, row.session_id, scope=Scope.owning(row))
    assert fresh is not None
    slug = await business_slug(rt, fresh)
    log.info("session_resumed", session_id=row.session_id, role=row.role, business=slug)
    name = SessionState.of(fresh.context_data).name
    await ensure_agent(rt, fresh)
    return issue_grant(rt, fresh, slug, name)


async def end_session(rt: Runtime, row: AgentSession, *, by: str) -> AgentSession:
    await close_session(
        rt, row.session_id, scope=Scope.owning(row), role=row.role, status=SessionStatus.ended,
        reason=f"ended_by_{by}"
    )
    async with rt.db() as db:
        fresh = await sessions_repo.get(db, row.session_id, scope=Scope.owning(row))
    assert fresh is not None
    return fresh


async def session_config(rt: Runtime, row: AgentSession) -> dict[str, Any]:
    return await load_config(rt.store, rt.db, row, max_hours=rt.settings.session_max_hours)


async def patch_config(rt: Runtime, row: AgentSession, patch: SessionConfigPatch) -> dict[str, Any]:
    """Change this session's config only; refused once the session has ended."""
    row = await expire_if_overdue(rt, row)
    if row.status != SessionStatus.active:
        raise Gone("the session has ended", code="session_ended")
    changes = patch.model_dump(exclude_none=True)
    config = resolve_config(dict(row.config or {}), changes, rt.voices).model_dump()
    async with rt.db() as db:
        if not await sessions_repo.set_config(db, row.session_id, config, scope=Scope.owning(row)):
            raise Gone("the session has ended", code="session_ended")
        await db.commit()
    row.config = config
    await store_config(rt.store, rt.db, row, config, max_hours=rt.settings.session_max_hours)
    log.info("session_config_stored", session_id=row.session_id, voice=config.get("voice"))
    return config


def ender(principal: Principal) -> str:
    if isinstance(principal, OperatorPrincipal):
        return "operator"
    if isinstance(principal, AccountPrincipal) and principal.kind == "owner":
        return "owner"
    return "user"
