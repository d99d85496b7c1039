from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from voxa import tickets
from voxa.agent.tools import catalog, tool_names
from voxa.api.deps import OwnedBusiness, RuntimeDep
from voxa.api.routes.sessions import session_out
from voxa.api.schemas import (
    AgentSettingsOut,
    AgentSettingsPatch,
    BusinessSettingsOut,
    BusinessSettingsPatch,
    PublicBusinessOut,
    SessionList,
    StatsOut,
    TicketList,
    TicketOut,
    TicketPatch,
    ToolOut,
)
from voxa.domain import OutcomeKindName, SessionStatusName, TicketStatusName
from voxa.errors import NotFound, Unsupported
from voxa.persona.prompts import DEFAULT_GREETINGS, DEFAULT_INSTRUCTIONS
from voxa.storage.models import AgentConfig
from voxa.storage.repos import businesses as businesses_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.repos import tickets as tickets_repo
from voxa.storage.repos.stats import business_stats
from voxa.storage.scope import Scope
from voxa.web.origins import valid_origins

router = APIRouter(prefix="/v1/businesses", tags=["businesses"])


@router.get("/{slug}/sessions", response_model=SessionList)
async def list_business_sessions(
    business: OwnedBusiness,
    rt: RuntimeDep,
    status: Annotated[SessionStatusName | None, Query()] = None,
    outcome: Annotated[OutcomeKindName
                       | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SessionList:
    async with rt.db() as db:
        rows = await sessions_repo.list_sessions(
            db, scope=Scope.business(business.id), status=status, outcome=outcome, limit=limit
        )
    return SessionList(sessions=[await session_out(rt, r, slug=business.slug) for r in rows])


@router.get("/{slug}/stats", response_model=StatsOut)
async def get_stats(business: OwnedBusiness, rt: RuntimeDep) -> StatsOut:
    async with rt.db() as db:
        return StatsOut(**await business_stats(db, scope=Scope.business(business.id)))


@router.get("/{slug}/tickets", response_model=TicketList)
async def list_business_tickets(
    business: OwnedBusiness, rt: RuntimeDep,
    status: Annotated[TicketStatusName | None, Query()] = None,
) -> TicketList:
    async with rt.db() as db:
        rows = await tickets_repo.list_tickets(db, scope=Scope.business(business.id), status=status,
                                          limit=500)
    return TicketList(tickets=[TicketOut.model_validate(t, from_attributes=True) for t in rows])


@router.get("/{slug}/tickets/{ticket_id}", response_model=TicketOut)
async def get_ticket(business: OwnedBusiness, rt: RuntimeDep,
                     ticket_id: Annotated[str, Path(max_length=36)]) -> TicketOut:
    async with rt.db() as db:
        t = await tickets_repo.get_ticket(db, ticket_id, scope=Scope.business(business.id))
    if t is None:
        raise NotFound("ticket not found", code="ticket_not_found")
    return TicketOut.model_validate(t, from_attributes=True)


@router.patch("/{slug}/tickets/{ticket_id}", response_model=TicketOut)
async def patch_ticket(body: TicketPatch, business: OwnedBusiness, rt: RuntimeDep,
                       ticket_id: Annotated[str, Path(max_length=36)]) -> TicketOut:
    async with rt.db() as db:
        t = await tickets.update_status(db, ticket_id, body.status,
                                        scope=Scope.business(business.id))
        if t is None:
            raise NotFound("ticket not found", code="ticket_not_found")
        await db.commit()
    return TicketOut.model_validate(t, from_attributes=True)


@router.get("/{slug}/public", response_model=PublicBusinessOut)
async def public_business(slug: Annotated[str, Path(max_length=64)], rt: RuntimeDep
                          ) -> PublicBusinessOut:
    """What a business's public chat page shows: anyone may ask."""
    async with rt.db() as db:
        business = await businesses_repo.get_by_slug(db, slug)
    if business is None or business.status != "active":
        raise NotFound(f"unknown business {slug!r}", code="unknown_business")
    return PublicBusinessOut(slug=business.slug, name=business.name)


@router.get("/{slug}/settings", response_model=BusinessSettingsOut)
async def get_business_settings(business: OwnedBusiness) -> BusinessSettingsOut:
    return BusinessSettingsOut(allowed_origins=valid_origins(business.allowed_origins or []))


@router.patch("/{slug}/settings", response_model=BusinessSettingsOut)
async def patch_business_settings(body: BusinessSettingsPatch, business: OwnedBusiness,
                                  rt: RuntimeDep) -> BusinessSettingsOut:
    """Which sites may embed the chat widget (``frame-ancestors`` of the chat page)."""
    origins = valid_origins(business.allowed_origins or [])
    if body.allowed_origins is not None:
        origins = list(dict.fromkeys(body.allowed_origins))
        async with rt.db() as db:
            if not await businesses_repo.set_allowed_origins(
                    db, origins, scope=Scope.business(business.id)):
                raise NotFound("business not found", code="unknown_business")
            await db.commit()
        await rt.directory.changed(rt.store, business_id=business.id, slug=business.slug)
    return BusinessSettingsOut(allowed_origins=origins)


def _agent_out(agent: AgentConfig) -> AgentSettingsOut:
    return AgentSettingsOut(
        id=agent.id, name=agent.name,
        instructions={k: str(v) for k, v in (agent.instructions or {}).items()},
        greeting={k: str(v) for k, v in (agent.greeting or {}).items()},
        default_voice=(agent.default_config or {}).get("voice"),
        defaults={"instructions": dict(DEFAULT_INSTRUCTIONS), "greeting": dict(DEFAULT_GREETINGS)},
        tools=[str(t) for t in agent.tools or []],
        available_tools=[ToolOut(name=s.name, roles=sorted(s.roles), description=s.guidance)
                         for s in catalog()],
    )


def _known_tools(names: list[str]) -> list[str]:
    unknown = sorted(set(names) - set(tool_names()))
    if unknown:
        raise Unsupported(f"no such tool: {', '.join(unknown)}", code="unknown_tool")
    return sorted(set(names))


async def _default_agent(db: Any, business_id: str) -> AgentConfig:
    agent = await businesses_repo.default_agent(db, business_id=business_id)
    if agent is None:
        raise NotFound("the business has no agent", code="unknown_agent")
    return agent


@router.get("/{slug}/agent", response_model=AgentSettingsOut)
async def get_agent_settings(business: OwnedBusiness, rt: RuntimeDep) -> AgentSettingsOut:
    async with rt.db() as db:
        return _agent_out(await _default_agent(db, business.id))


@router.patch("/{slug}/agent", response_model=AgentSettingsOut)
async def patch_agent_settings(body: AgentSettingsPatch, business: OwnedBusiness,
                               rt: RuntimeDep) -> AgentSettingsOut:
    """Change the default agent's role texts, default voice and enabled tools
    (new sessions use them; active text sessions from their next turn)."""
    voice = rt.voices.resolve_available(body.default_voice).id if body.default_voice else None
    tools = _known_tools(body.tools) if body.tools is not None else None
    async with rt.db() as db:
        agent = await _default_agent(db, business.id)
        if body.instructions is not None:
            agent.instructions = _merge(agent.instructions, body.instructions)
        if body.greeting is not None:
            agent.greeting = _merge(agent.greeting, body.greeting)
        if voice is not None:
            agent.default_config = {**(agent.default_config or {}), "voice": voice}
        if tools is not None:
            agent.tools = tools
        await db.commit()
    await rt.directory.changed(rt.store, business_id=business.id, slug=business.slug)
    return _agent_out(agent)


def _merge(current: dict[str, Any] | None, changes: Mapping[Any, str]) -> dict[str, Any]:
    merged = dict(current or {})
    for role, text in changes.items():
        if text.strip():
            merged[role] = text.strip()
        else:
            merged.pop(role, None)  # empty: back to the built-in default
    return merged
