"""Runs scenarios through the real text pipeline: the API creates the
businesses, accounts and sessions, then every user turn goes through the app's
``TextTurns`` (the same assistant, tools, memory extraction and persistence as
``POST /v1/sessions/{id}/messages``) with the configured model. Results are
read back from the database."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from voxa import tickets as ticket_service
from voxa.agent.turns import TextTurns
from voxa.eval.checks import Observed, TicketView, ToolCall, judge
from voxa.eval.scenarios import BusinessSetup, Scenario
from voxa.persona.prompts import DEFAULT_INSTRUCTIONS
from voxa.runtime import Runtime
from voxa.storage.models import AgentMessage, AgentSession, Ticket
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.repos.memories import list_memories, remember
from voxa.storage.scope import Scope

_PASSWORD = "correct horse battery staple"


@dataclass
class ScenarioResult:
    scenario: Scenario
    failures: list[str]
    ttft_ms: list[float] = field(default_factory=list)
    turn_ms: list[float] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def done(self) -> bool:
        return not self.failures and self.error is None


@dataclass
class _Party:
    """One signed-in participant: a session and the ids behind it."""

    session_id: str
    user_id: str
    business_id: str | None


def business_texts(setup: BusinessSetup) -> dict[str, str]:
    """The owner's and customer's instructions: the role's default text plus
    the business's own instructions and knowledge."""
    extra = "\n\n".join(p for p in (setup.instructions.strip(),
                                    "What you know about the business:\n"
                                    + setup.knowledge.strip() if setup.knowledge.strip()
                                    else "") if p)
    return {role: (DEFAULT_INSTRUCTIONS[role] + ("\n\n" + extra if extra else ""))
            for role in ("owner", "customer")}


class Harness:
    """Sets up and runs scenarios against one app (one runtime, one model)."""

    def __init__(self, app: FastAPI, rt: Runtime) -> None:
        self.app = app
        self.rt = rt
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                        base_url="http://voxa.eval")

    async def aclose(self) -> None:
        await self.client.aclose()

    @property
    def turns(self) -> TextTurns:
        return self.app.state.turns  # type: ignore[no-any-return]

    async def _post(self, path: str, body: dict[str, Any], token: str | None = None
                    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = await self.client.request("PATCH" if path.endswith("/agent") else "POST", path,
                                      json=body, headers=headers)
        if r.status_code >= 300:
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
        return dict(r.json())

    async def _business(self, setup: BusinessSetup) -> tuple[str, str]:
        """A fresh business (slug, owner token) with the scenario's texts."""
        slug = f"{setup.key[:30]}-{uuid.uuid4().hex[:8]}".lower()
        acct = await self._post("/v1/businesses", {
            "name": setup.name, "slug": slug,
            "owner": {"email": f"owner@{slug}.example.com", "name": "Olu Owner",
                      "password": _PASSWORD}})
        await self._post(f"/v1/businesses/{slug}/agent",
                         {"instructions": business_texts(setup)}, acct["token"])
        return slug, str(acct["token"])

    async def _party(self, grant: dict[str, Any]) -> _Party:
        async with self.rt.db() as db:
            row = await sessions_repo.get(db, grant["session_id"], scope=Scope.system())
        assert row is not None
        return _Party(row.session_id, row.user_id, row.business_id)

    async def _customer(self, slug: str, name: str) -> _Party:
        return await self._party(await self._post("/v1/sessions", {
            "role": "customer", "business": slug, "customer": {"name": name}}))

    async def _start(self, s: Scenario) -> tuple[_Party, str | None]:
        if s.role == "general":
            email = f"{uuid.uuid4().hex[:10]}@eval.example.com"
            acct = await self._post("/v1/users", {"email": email, "name": s.user,
                                                  "password": _PASSWORD})
            grant = await self._post("/v1/sessions", {"role": "general"}, acct["token"])
            return await self._party(grant), None
        assert s.business is not None
        slug, owner_token = await self._business(s.business)
        if s.role == "owner":
            grant = await self._post("/v1/sessions", {"role": "owner", "business": slug},
                                     owner_token)
            return await self._party(grant), slug
        return await self._customer(slug, s.user), slug

    async def _seed(self, s: Scenario, me: _Party, slug: str | None) -> list[str]:
        ids: list[str] = []
        for t in s.tickets:
            if t.owner == "mine":
                party = me
            elif t.owner == "other_business":
                assert s.business is not None
                rival = BusinessSetup(s.business.key + "-rival", "Rival " + s.business.name)
                party = await self._customer((await self._business(rival))[0], "Rita Rival")
            else:
                assert slug is not None
                party = await self._customer(slug, "Other Customer")
            async with self.rt.db() as db:
                row = await ticket_service.create_ticket(
                    db, scope=Scope.user(party.user_id, party.business_id),
                    session_id=party.session_id, subject=t.subject, body=t.body or t.subject,
                    priority=t.priority)
                if t.status != "open":
                    await ticket_service.update_status(
                        db, row.id, t.status, scope=Scope.business(str(party.business_id)))
                await db.commit()
                ids.append(row.id)
        if s.memories:
            async with self.rt.db() as db:
                for category, key, value in s.memories:
                    await remember(db, scope=Scope.user(me.user_id, me.business_id),
                                   category=category, key=key, value=value)
                await db.commit()
        return ids

    async def _row(self, session_id: str) -> AgentSession:
        async with self.rt.db() as db:
            row = await sessions_repo.get(db, session_id, scope=Scope.system())
        assert row is not None
        return row

    async def run(self, s: Scenario) -> ScenarioResult:
        result = ScenarioResult(s, failures=[])
        try:
            me, slug = await self._start(s)
            seeded = await self._seed(s, me, slug)
            for text in s.turns:
                for i, tid in enumerate(seeded):
                    text = text.replace(f"{{ticket{i}}}", tid[:8])
                await self._turn(me, text, result)
            seen = await self._observe(s, me, seeded, result)
            result.failures = judge(s.expect, seen)
        except Exception as exc:  # a crash is a failed scenario, reported with its cause
            result.error = f"{type(exc).__name__}: {exc}"[:300]
        return result

    async def _turn(self, me: _Party, text: str, result: ScenarioResult) -> None:
        started = time.perf_counter()
        first: list[float] = []

        async def on_delta(piece: str) -> None:
            if not first and piece.strip():
                first.append(time.perf_counter())

        turn = await self.turns.send(await self._row(me.session_id), text, on_delta=on_delta)
        done = time.perf_counter()
        result.turn_ms.append((done - started) * 1000)
        result.ttft_ms.append(((first[0] if first else done) - started) * 1000)
        result.replies.append(turn.reply.content)

    async def _observe(self, s: Scenario, me: _Party, seeded: list[str],
                       result: ScenarioResult) -> Observed:
        seen = Observed(user=s.user, replies=list(result.replies), user_turns=list(s.turns))
        async with self.rt.db() as db:
            rows = (await db.execute(select(AgentMessage).where(
                AgentMessage.session_id == me.session_id, AgentMessage.role == "tool")
                .order_by(AgentMessage.id))).scalars()
            for m in rows:
                data = json.loads(m.content)
                try:
                    args = json.loads(data.get("arguments") or "{}")
                except ValueError:
                    args = {}
                seen.tools.append(ToolCall(str(data.get("name")), args if isinstance(
                    args, dict) else {}, str(data.get("output")), bool(data.get("is_error"))))
            if me.business_id is not None:
                tickets = (await db.execute(select(Ticket).where(
                    Ticket.business_id == me.business_id))).scalars()
                for t in tickets:
                    view = TicketView(t.id, t.subject, t.body, t.priority, t.status,
                                      t.user_id == me.user_id)
                    if t.id not in seeded:
                        seen.new_tickets.append(view)
            if seeded:
                by_id = {t.id: t for t in (await db.execute(select(Ticket).where(
                    Ticket.id.in_(seeded)))).scalars()}
                seen.seeded = [TicketView(i, by_id[i].subject, by_id[i].body, by_id[i].priority,
                                          by_id[i].status, False) for i in seeded]
            mine = Scope.user(me.user_id, me.business_id)
            seen.memories = {m.key: m.value for m in await list_memories(db, scope=mine)}
        return seen
