from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from voxa.api.deps import (
    ClientAddress,
    CurrentPrincipal,
    EndableSession,
    HeldSession,
    OptionalPrincipal,
    ReadableSession,
    RuntimeDep,
)
from voxa.api.schemas import (
    ConfigOut,
    ConfigPatch,
    LiveKitOut,
    MessageList,
    MessageOut,
    SessionCreate,
    SessionGrantOut,
    SessionOut,
)
from voxa.domain import Role
from voxa.runtime import Runtime
from voxa.sessions import service
from voxa.sessions.lifecycle import expire_if_overdue
from voxa.sessions.service import CustomerInfo, SessionGrant, StartRequest
from voxa.storage.models import AgentSession
from voxa.storage.repos import messages as messages_repo
from voxa.storage.scope import Scope
from voxa.storage.session_state import SessionState

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


def grant_out(rt: Runtime, grant: SessionGrant) -> SessionGrantOut:
    row = grant.row
    livekit = (
        LiveKitOut(url=rt.livekit.url, token=grant.livekit_token)
        if rt.livekit is not None and grant.livekit_token
        else None
    )
    return SessionGrantOut(
        session_id=row.session_id,
        session_token=grant.session_token,
        role=row.role,
        business=grant.business_slug,
        room_name=row.room_name,
        status=row.status,
        channel=row.channel,
        config=row.config,
        expires_at=grant.expires_at,
        resume_until=grant.resume_until,
        customer_id=grant.customer_id,
        greeting=grant.greeting,
        livekit=livekit,
    )


async def session_out(
    rt: Runtime, row: AgentSession, config: dict[str, object] | None = None,
    *, slug: str | None = None,
) -> SessionOut:
    if slug is None and row.business_id is not None:
        slug = await service.business_slug(rt, row)
    return SessionOut(
        session_id=row.session_id,
        role=row.role,
        business=slug,
        user_id=row.user_id,
        channel=row.channel,
        room_name=row.room_name,
        status=row.status,
        config=config if config is not None else dict(row.config or {}),
        message_count=row.message_count,
        started_at=row.started_at,
        last_activity_at=row.last_activity_at,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
        agent_status=SessionState.of(row.context_data).agent_status,
        handoff=SessionState.of(row.context_data).handoff_state,
        outcome=row.outcome,
        outcome_summary=row.outcome_summary,
        contact_name=row.contact_name,
        contact_email=row.contact_email,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SessionGrantOut)
async def start_session(
    body: SessionCreate, rt: RuntimeDep, principal: OptionalPrincipal, address: ClientAddress
) -> SessionGrantOut:
    customer = CustomerInfo(**body.customer.model_dump()) if body.customer else None
    req = StartRequest(
        role=Role(body.role),
        channel=body.channel,
        business=body.business,
        agent_id=body.agent_id,
        config=body.config.model_dump(exclude_unset=True) if body.config else None,
        customer=customer,
        ip_address=address,
        website_domain=body.website_domain,
    )
    return grant_out(rt, await service.start_session(rt, req, principal))


@router.post("/{session_id}/resume", response_model=SessionGrantOut)
async def resume_session(row: HeldSession, rt: RuntimeDep) -> SessionGrantOut:
    return grant_out(rt, await service.resume_session(rt, row))


@router.post("/{session_id}/end", response_model=SessionOut)
async def end_session(
    row: EndableSession, rt: RuntimeDep, principal: CurrentPrincipal
) -> SessionOut:
    return await session_out(rt, await service.end_session(rt, row, by=service.ender(principal)))


@router.get("/{session_id}", response_model=SessionOut)
async def get_session(row: ReadableSession, rt: RuntimeDep) -> SessionOut:
    row = await expire_if_overdue(rt, row)
    config = await service.session_config(rt, row)
    return await session_out(rt, row, config)


@router.get("/{session_id}/messages", response_model=MessageList)
async def list_messages(
    row: ReadableSession,
    rt: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> MessageList:
    async with rt.db() as db:
        rows = await messages_repo.list_messages(
            db,
            row.session_id,
            scope=Scope.user(row.user_id, row.business_id),
            limit=limit,
            before=before,
        )
    return MessageList(messages=[MessageOut.model_validate(m, from_attributes=True) for m in rows])


@router.patch("/{session_id}/config", response_model=ConfigOut)
async def patch_config(body: ConfigPatch, row: HeldSession, rt: RuntimeDep) -> ConfigOut:
    config = await service.patch_config(rt, row, body)
    return ConfigOut(session_id=row.session_id, config=config)
