"""Business signup, general-user signup, login and password changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from voxa.auth import revocation
from voxa.auth.passwords import hash_password, verify_password
from voxa.auth.principal import AccountPrincipal, PrincipalKind
from voxa.auth.tokens import IssuedToken
from voxa.errors import Conflict, Forbidden, Unauthenticated
from voxa.identity import account_identity, normalize_email, user_id_for
from voxa.limits import login as login_limits
from voxa.logs import get_logger
from voxa.runtime import Runtime
from voxa.slugs import validate_slug
from voxa.storage.models import AgentConfig, Business, Profile
from voxa.storage.repos import businesses as businesses_repo
from voxa.storage.repos import profiles as profiles_repo
from voxa.storage.scope import Scope
from voxa.storage.tenancy import bind_db_scope_now

log = get_logger(__name__)

AGENT_NAME_MAX = 200  # agents.name
_AGENT_SUFFIX = " assistant"


@dataclass(frozen=True, slots=True)
class Account:
    profile: Profile
    token: IssuedToken | None  # a fresh credential, when one was issued
    business: Business | None = None


def _issue(rt: Runtime, profile: Profile) -> IssuedToken:
    return rt.signer.account_token(
        user_id=profile.id,
        kind=PrincipalKind(profile.kind),
        business_id=profile.business_id,
        version=profile.token_version or 0,
        ttl=timedelta(hours=rt.settings.user_token_ttl_hours),
    )


async def _new_profile(
    kind: str, email: str, name: str, password: str, business_id: str | None
) -> Profile:
    identity = account_identity(email)
    return Profile(
        id=user_id_for(identity),
        identity=identity,
        kind=kind,
        email=normalize_email(email),
        display_name=name,
        password_hash=await hash_password(password),
        business_id=business_id,
    )


def agent_name(business_name: str) -> str:
    """The default agent's name, within its 200-character column for any business name."""
    return f"{business_name[:AGENT_NAME_MAX - len(_AGENT_SUFFIX)]}{_AGENT_SUFFIX}"


async def signup_business(
    rt: Runtime, *, name: str, slug: str, owner_email: str, owner_name: str, owner_password: str
) -> Account:
    """Create the business, its default agent and its owner in one transaction."""
    validate_slug(slug)
    async with rt.db() as db:
        if await businesses_repo.slug_taken(db, slug):
            raise Conflict(f"slug {slug!r} is taken", code="slug_taken")
        if await profiles_repo.get_by_identity(db, account_identity(owner_email)):
            raise Conflict("an account with this e-mail exists", code="email_taken")
    profile_pending = await _new_profile("owner", owner_email, owner_name, owner_password, None)
    async with rt.db() as db:
        business = businesses_repo.new_business(slug=slug, name=name)
        db.add(business)
        await db.flush()
        # the new business's rows are written as that tenant (row-level security)
        await bind_db_scope_now(db, Scope.business(business.id))
        db.add(AgentConfig(business_id=business.id, name=agent_name(name), is_default=True))
        profile_pending.business_id = business.id
        db.add(profile_pending)
        try:
            await db.commit()
        except IntegrityError as exc:
            await db.rollback()
            raise Conflict("slug or e-mail already taken", code="conflict") from exc
    log.info("business_created", business=slug, owner_id=profile_pending.id)
    return Account(profile=profile_pending, token=_issue(rt, profile_pending), business=business)


async def signup_general(rt: Runtime, *, email: str, name: str, password: str) -> Account:
    async with rt.db() as db:
        if await profiles_repo.get_by_identity(db, account_identity(email)):
            raise Conflict("an account with this e-mail exists", code="email_taken")
    profile = await _new_profile("general", email, name, password, None)
    async with rt.db() as db:
        db.add(profile)
        try:
            await db.commit()
        except IntegrityError as exc:
            await db.rollback()
            raise Conflict("an account with this e-mail exists", code="email_taken") from exc
    log.info("user_created", user_id=profile.id)
    return Account(profile=profile, token=_issue(rt, profile))


async def login(rt: Runtime, *, email: str, password: str, address: str) -> Account:
    """Unknown e-mail and wrong password get the same answer, after the same
    work (a dummy hash is verified), and count against the same limits."""
    await login_limits.before_login(rt.limiter, email=email, address=address)
    async with rt.db() as db:
        profile = await profiles_repo.get_by_identity(db, account_identity(email))
    stored = profile.password_hash if profile else None
    if not await verify_password(stored, password) or profile is None:
        await login_limits.login_failed(rt.limiter, email=email)
        raise Unauthenticated("wrong e-mail or password", code="invalid_credentials")
    await login_limits.login_succeeded(rt.limiter, email=email)
    business = None
    async with rt.db() as db:
        if profile.business_id:
            business = await businesses_repo.get_by_id(db, profile.business_id)
        if profile.is_first_login:
            fresh = await profiles_repo.get_by_id(db, profile.id)
            if fresh is not None:
                fresh.is_first_login = False
                await db.commit()
    return Account(profile=profile, token=_issue(rt, profile), business=business)


async def load(rt: Runtime, principal: AccountPrincipal) -> Account:
    """The caller's profile and business (no new credential)."""
    async with rt.db() as db:
        profile = await profiles_repo.get_by_id(db, principal.user_id)
        if profile is None:
            raise Unauthenticated("this account no longer exists", code="invalid_token")
        business = None
        if profile.business_id:
            business = await businesses_repo.get_by_id(db, profile.business_id)
    return Account(profile=profile, token=None, business=business)


async def logout_everywhere(rt: Runtime, principal: AccountPrincipal) -> None:
    """Revoke every token of the account (its token version moves on)."""
    async with rt.db() as db:
        version = await profiles_repo.bump_token_version(db, principal.user_id)
        if version is None:
            raise Unauthenticated("this account no longer exists", code="invalid_token")
        await db.commit()
    await revocation.version_retired(rt, principal.user_id, version - 1)
    log.info("tokens_revoked", user_id=principal.user_id, version=version)


async def change_password(
    rt: Runtime, principal: AccountPrincipal, *, current: str, new: str, address: str
) -> Account:
    """Set a new password, revoke every token of the account, issue a fresh one.

    Checking ``current`` is a password guess like a login, so it counts against
    the same per-account and per-address limits: a stolen token cannot be used
    to brute-force the password."""
    account = await load(rt, principal)
    email = account.profile.email or principal.user_id
    await login_limits.before_login(rt.limiter, email=email, address=address)
    old_hash = account.profile.password_hash
    if not await verify_password(old_hash, current) or old_hash is None:
        await login_limits.login_failed(rt.limiter, email=email)
        raise Forbidden("the current password is wrong", code="wrong_password")
    new_hash = await hash_password(new)
    async with rt.db() as db:
        # Only if nobody changed the password meanwhile (compare-and-set).
        version = await profiles_repo.bump_token_version(
            db, principal.user_id, password_hash=new_hash, expected_hash=old_hash
        )
        if version is None:
            raise Conflict("the password was changed meanwhile; try again",
                           code="password_changed")
        await db.commit()
    await revocation.version_retired(rt, principal.user_id, version - 1)
    profile = account.profile
    profile.password_hash, profile.token_version = new_hash, version
    log.info("password_changed", user_id=principal.user_id, version=version)
    return Account(profile=profile, token=_issue(rt, profile), business=account.business)
