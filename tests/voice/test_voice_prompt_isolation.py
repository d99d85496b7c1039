"""Isolation at the model's prompt, in voice. Concurrent voice sessions of two
businesses and all three roles, each with its own name, business name, earlier
conversation (history the job loads) and memory (returned by the ``recall``
tool the model calls), talk to the real voice worker of a real `voxa serve`,
whose model is an OpenAI-compatible server that keeps every prompt with the
process that sent it (``prompt_recorder``). Each prompt holds only its own
session's data (an owner's: its own business's); each session's own history,
memory and name do reach its prompts, so the check is not vacuous.

Runs on SQLite with the default store and on PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import LIVE_BACKENDS
from tests.live_server import LiveServer, live_server
from tests.voice.conftest import speech
from tests.voice.helpers import join, start
from tests.voice.prompt_recorder import PromptRecorder, SeenPrompt, prompt_recorder
from voxa.bench.common import Backend
from voxa.kv import TTLStore
from voxa.kv.keys import agent_pid_key
from voxa.storage.db import create_engine, session_factory
from voxa.storage.models import AgentMessage, AgentSession, Memory
from voxa.storage.scope import Scope
from voxa.storage.tenancy import db_scope
from voxa.voice.client import VoiceClient

pytestmark = [pytest.mark.slow, pytest.mark.voice,
              pytest.mark.parametrize("live_backend", LIVE_BACKENDS, indirect=True,
                                      scope="module")]

WORDS = ["banana", "elephant", "guitar", "volcano", "rocket"]


def marker() -> str:
    """A unique word no template contains (hex digits mapped onto letters)."""
    return "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:12]).capitalize()


@dataclass
class Caller:
    role: str
    business: str | None
    word: str
    token: str | None = None
    grant: dict[str, Any] = field(default_factory=dict)
    pid: int = 0
    name: str = field(default_factory=marker)
    history: str = field(default_factory=marker)
    memory: str = field(default_factory=marker)

    @property
    def markers(self) -> set[str]:
        return {self.name, self.history, self.memory}


@pytest.fixture(scope="module")
def recorder(live_backend: Backend) -> Iterator[PromptRecorder]:
    """One recorder per stack (a fresh one for each backend)."""
    with prompt_recorder() as r:
        yield r


@pytest.fixture(scope="module")
def voice_stack(tmp_path_factory: pytest.TempPathFactory, live_backend: Backend,
                recorder: PromptRecorder) -> Iterator[LiveServer]:
    """`voxa serve` whose model (for text and voice) is the recorder, through
    the real OpenAI-compatible provider path."""
    env = {"VOXA_LLM": "openai:recorder",
           "VOXA_LLM_BASE_URL": f"http://127.0.0.1:{recorder.port}/v1",
           "VOXA_VOICE_SILENCE_SECONDS": "900"}
    suffix = "" if live_backend.database_url is None else "-postgres"
    yield from live_server(tmp_path_factory.mktemp("voice-prompts"), env,
                           artifact=f"voice-prompts{suffix}-serve.log", backend=live_backend)


async def _world(api: httpx.AsyncClient) -> tuple[list[Caller], dict[str, str]]:
    names = {"a": marker(), "b": marker()}
    slugs: dict[str, str] = {}
    owner = Caller("owner", "a", WORDS[3])
    for key, name in names.items():
        slug = f"prompts-{key}-{uuid.uuid4().hex[:6]}"
        r = await api.post("/v1/businesses", json={"name": name, "slug": slug, "owner": {
            "email": f"owner@{slug}.example.com", "name": owner.name if key == "a" else marker(),
            "password": "password123"}})
        assert r.status_code == 201, r.text
        slugs[key] = slug
        if key == "a":
            owner.token = r.json()["token"]
    general = Caller("general", None, WORDS[4])
    r = await api.post("/v1/users", json={"email": f"g{uuid.uuid4().hex[:6]}@example.com",
                                          "name": general.name, "password": "password123"})
    assert r.status_code == 201, r.text
    general.token = r.json()["token"]
    callers = [Caller("customer", "a", WORDS[0]), Caller("customer", "a", WORDS[1]),
               Caller("customer", "b", WORDS[2]), owner, general]
    bodies = []
    for c in callers:
        body: dict[str, Any] = {"role": c.role}
        if c.business is not None:
            body["business"] = slugs[c.business]
        if c.role == "customer":
            body["customer"] = {"name": c.name}
        bodies.append(body)
    grants = await asyncio.gather(*(start(api, b, c.token) for b, c in zip(bodies, callers,
                                                                           strict=True)))
    for c, g in zip(callers, grants, strict=True):
        c.grant = g
    return callers, names


async def _seed(server: LiveServer, callers: list[Caller]) -> None:
    """Each session's earlier conversation (the job loads it as history) and a
    memory in its own namespace (the ``recall`` tool returns it), written
    straight to the server's database."""
    engine = create_engine(server.database_url)
    try:
        with db_scope(Scope.system()):
            async with session_factory(engine)() as db:
                for c in callers:
                    sid = c.grant["session_id"]
                    row = (await db.execute(select(AgentSession).where(
                        AgentSession.session_id == sid))).scalar_one()
                    db.add(AgentMessage(session_id=sid, role="user",
                                        content=f"Earlier I mentioned {c.history}."))
                    db.add(Memory(scope=row.business_id or "general", user_id=row.user_id,
                                  category="FACT", key="passphrase", value=c.memory))
                await db.commit()
    finally:
        await engine.dispose()


def _allowed(callers: list[Caller], business_names: dict[str, str]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for c in callers:
        mine = set(c.markers)
        if c.business is not None:
            mine.add(business_names[c.business])
        if c.role == "owner":  # an owner's assistant may see its own business's data
            mine |= {m for o in callers if o.business == c.business for m in o.markers}
        out[c.pid] = mine
    return out


async def _talk(c: Caller, client: VoiceClient, recorder: PromptRecorder,
                talkers: asyncio.Semaphore) -> list[SeenPrompt]:
    """Say the caller's line until the model has been asked with the recall
    tool's output (up to three tries: a caller who was not heard says it again)."""
    pcm, rate = await speech(f"Please tell me about the {c.word}.")

    def answered() -> bool:
        return any(c.memory in p.text for p in recorder.for_pid(c.pid))

    async with talkers:
        for _try in range(3):
            await client.say(pcm, rate)
            if await client.wait_for(answered, 90):
                break
            await client.wait_for_turn(60)
    return recorder.for_pid(c.pid)


async def test_each_voice_prompt_holds_only_its_own_sessions_data(
        api: httpx.AsyncClient, clients: list[VoiceClient], store: TTLStore,
        voice_stack: LiveServer, recorder: PromptRecorder) -> None:
    callers, business_names = await _world(api)
    await _seed(voice_stack, callers)
    cs = await asyncio.gather(*(join(clients, c.grant, record_audio=False) for c in callers))
    for c in callers:  # each job has its own process: the recorder's key to a session
        pid = await store.get(agent_pid_key(c.grant["session_id"]))
        assert pid, c.role
        c.pid = int(pid)
    assert len({c.pid for c in callers}) == len(callers)
    await asyncio.gather(*(vc.wait_for(lambda vc=vc: bool(vc.agent_said()), 90) for vc in cs))
    assert all(await asyncio.gather(*(vc.wait_for_turn(90) for vc in cs)))
    rate = (await speech("Hello."))[1]
    # every microphone is open and heard before anyone speaks (test_voice_e2e)
    await asyncio.gather(*(vc.open_microphone(rate) for vc in cs))
    # two callers talk at a time (two cores carry 2-3 conversations in real time)
    talkers = asyncio.Semaphore(2)
    await asyncio.gather(*(_talk(c, vc, recorder, talkers)
                           for c, vc in zip(callers, cs, strict=True)))

    allowed = _allowed(callers, business_names)
    every = {m for c in callers for m in c.markers} | {business_names["a"], business_names["b"]}
    assert len(every) == 3 * len(callers) + 2
    # every prompt came from one of these sessions' jobs (none unattributed)
    assert recorder.prompts and all(p.pid in allowed for p in recorder.prompts), [
        p.pid for p in recorder.prompts]
    found = [(p.pid, m) for p in recorder.prompts for m in every - allowed[p.pid or 0]
             if m in p.text]
    assert found == [], found

    # Positive control: each session's own data reaches its own prompts.
    for c in callers:
        mine = recorder.for_pid(c.pid)
        assert mine, c.role
        assert any(c.name in p.system for p in mine), (c.role, mine[-1].system)
        if c.business is not None:
            assert any(business_names[c.business] in p.system for p in mine), c.role
        assert any(c.history in p.text for p in mine), (c.role, mine[-1].text)
        assert any(c.memory in p.text for p in mine), (c.role, mine[-1].text)
