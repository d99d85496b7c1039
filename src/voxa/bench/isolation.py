"""N concurrent sessions across 10 businesses and every role. Every session has
its own marker word, speaking rate (config) and memory key; it states the
marker (memory extraction), stores it with the remember tool and talks a few
turns, then tries to read the next session's data with its own credential.
The bench counts crossings and fails (non-zero exit) on any:

- ``prompt``: a marker in a model prompt of a session it does not belong to
  (the recording model keeps every prompt with its session);
- ``reply``/``history``: a reply or stored message without its own marker or
  with another's;
- ``config``: a session whose config is not exactly its own;
- ``memory``: a holder whose memories are not exactly its own markers;
- ``foreign_read``: another session's data answered with anything but 404.

The app runs in-process (so the model's prompts can be recorded) on the chosen
backend: SQLite with the SQL-backed store that a default ``voxa serve`` uses,
or PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from voxa.agent.recording_llm import RecordingLLM, crossings
from voxa.api.app import create_app
from voxa.bench.common import BENCH_LIMITS, Backend, report, scratch_dir
from voxa.runtime import Runtime, open_runtime
from voxa.settings import build_settings

VOICES = ["joe", "craig", "olivia", "aria", "max"]
BUSINESSES = 10
GENERALS = 20
# One session's start and turns, on a loaded 2-core machine: generous.
SESSION_BUDGET_S = 300
TURNS = 3


MARKER = re.compile(r"zq[a-p]{10}")


def _marker() -> str:
    return "zq" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10])


@dataclass
class Holder:
    i: int
    kind: str
    principal: str  # whose memories: the account, or the customer's session
    rate: float
    marker: str = field(default_factory=_marker)
    session_id: str = ""
    headers: dict[str, str] = field(default_factory=dict)


async def _open(backend: Backend, data_dir: Path) -> Runtime:
    limits = {k.removeprefix("VOXA_").lower(): v for k, v in BENCH_LIMITS.items()}
    settings = build_settings(env="test", data_dir=data_dir, database_url=backend.database_url,
                              redis_url=backend.redis_url,
                              store="memory" if backend.redis_url else "sql", **limits)
    return await open_runtime(settings)


class Bench:
    def __init__(self, client: httpx.AsyncClient, n: int) -> None:
        self.c = client
        self.n = n
        self.count: Counter[str] = Counter()
        self.holders: list[Holder] = []

    async def setup(self) -> None:
        owners = []
        for b in range(BUSINESSES):
            slug = f"iso{b}-{uuid.uuid4().hex[:5]}"
            r = await self.c.post("/v1/businesses", json={"name": slug, "slug": slug, "owner": {
                "email": f"o@{slug}.example.com", "name": "O", "password": "password123"}})
            r.raise_for_status()
            owners.append((slug, r.json()["token"]))
        generals = []
        for g in range(GENERALS):
            r = await self.c.post("/v1/users", json={
                "email": f"g{g}-{uuid.uuid4().hex[:5]}@example.com", "name": f"G{g}",
                "password": "password123"})
            r.raise_for_status()
            generals.append(r.json()["token"])
        self.owners, self.generals = owners, generals

    async def start(self, i: int) -> Holder:
        kind = ("customer", "customer", "owner", "general")[i % 4]
        slug, owner_token = self.owners[i % BUSINESSES]
        rate = round(0.5 + i * 1.5 / self.n, 6)
        body: dict[str, Any] = {"role": kind, "config": {"voice": VOICES[i % 5],
                                                         "speaking_rate": rate}}
        account = {"owner": owner_token, "general": self.generals[i % GENERALS]}.get(kind)
        if kind == "customer":
            body.update(business=slug, customer={"name": f"c{i}"})
        elif kind == "owner":
            body["business"] = slug
        r = await self.c.post("/v1/sessions", json=body, headers=(
            {"Authorization": f"Bearer {account}"} if account else {}))
        r.raise_for_status()
        s = r.json()
        h = Holder(i, kind, account or s["session_token"], rate, session_id=s["session_id"],
                   headers={"Authorization": f"Bearer {s['session_token']}"})
        return h

    async def talk(self, h: Holder) -> None:
        url = f"/v1/sessions/{h.session_id}/messages"
        remember = {"category": "FACT", "key": f"key_{h.marker}", "value": h.marker}
        texts = [f"My favorite color is {h.marker}", "/tool remember " + json.dumps(remember),
                 *(f"{h.marker} turn {k}" for k in range(TURNS))]
        for text in texts:
            r = await self.c.post(url, json={"text": text}, headers=h.headers)
            r.raise_for_status()
            reply = r.json()["reply"]["content"]
            if set(MARKER.findall(reply)) != {h.marker}:
                self.count["reply"] += 1
        got = (await self.c.get(f"/v1/sessions/{h.session_id}", headers=h.headers)).json()
        if got["config"]["speaking_rate"] != h.rate:
            self.count["config"] += 1
        hist = (await self.c.get(url, headers=h.headers)).json()["messages"]
        foreign = [m for m in hist if set(MARKER.findall(m["content"])) - {h.marker}]
        if foreign or not any(h.marker in m["content"] for m in hist):
            self.count["history"] += 1

    async def trespass(self, h: Holder, other: Holder, memory_id: str | None) -> None:
        """``h`` reaches for ``other``'s session and memory with its own token."""
        sid = other.session_id
        tries = [("GET", f"/v1/sessions/{sid}"), ("GET", f"/v1/sessions/{sid}/messages"),
                 ("PATCH", f"/v1/sessions/{sid}/config"),
                 ("POST", f"/v1/sessions/{sid}/messages")]
        if memory_id is not None:
            tries.append(("DELETE", f"/v1/me/memories?id={memory_id}"))
        for method, url in tries:
            body = {"voice": "joe"} if method == "PATCH" else (
                {"text": "hi"} if method == "POST" else None)
            r = await self.c.request(method, url, json=body, headers=h.headers)
            self.count["foreign_read"] += r.status_code != 404
            self.count["foreign_tries"] += 1

    async def memories(self) -> dict[str, set[str]]:
        """Each principal's memory values (and checks they are exactly its own)."""
        own: dict[str, set[str]] = {}
        for h in self.holders:
            own.setdefault(h.principal, set()).add(h.marker)
        seen: dict[str, set[str]] = {}
        for principal, mine in own.items():
            r = await self.c.get("/v1/me/memories",
                                 headers={"Authorization": f"Bearer {principal}"})
            r.raise_for_status()
            values = {m["value"] for m in r.json()["memories"] if m["value"].startswith("zq")}
            keys = {m["key"] for m in r.json()["memories"] if m["key"].startswith("key_zq")}
            self.count["memory"] += len(values ^ mine) + len(keys ^ {f"key_{m}" for m in mine})
            seen[principal] = {m["id"] for m in r.json()["memories"]}
        return seen

    def prompts(self, model: RecordingLLM) -> None:
        by_principal: dict[str, set[str]] = {}
        for h in self.holders:
            by_principal.setdefault(h.principal, set()).add(h.marker)
        allowed = {h.session_id: by_principal[h.principal] for h in self.holders}
        markers = {h.marker for h in self.holders}
        self.count["prompt"] += len(crossings(model.prompts, allowed, markers))
        self.count["prompts_recorded"] = len(model.prompts)


async def run(backend_name: str, quick: bool, n: int = 1000) -> int:
    """The number of crossings found (the CLI exits non-zero unless 0)."""
    n = 40 if quick else n
    with scratch_dir() as d:
        backend = Backend.choose(backend_name, d)
        rt = await _open(backend, d)
        model = RecordingLLM()
        try:
            app = create_app(rt.settings, runtime=rt, model=model)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://voxa.bench", timeout=120) as c:
                bench = Bench(c, n)
                await bench.setup()
                sem = asyncio.Semaphore(50)
                started = time.perf_counter()

                async def converse(i: int) -> Holder:
                    h = await bench.start(i)
                    await bench.talk(h)
                    return h

                async def one(i: int) -> Holder:
                    async with sem:
                        # the in-process transport has no request timeout: a
                        # turn that never returns must fail the bench, not hang it
                        return await asyncio.wait_for(converse(i), SESSION_BUDGET_S)

                done = await asyncio.gather(*(one(i) for i in range(n)),
                                            return_exceptions=True)
                stuck = [r for r in done if isinstance(r, BaseException)]
                if stuck:
                    raise RuntimeError(f"{len(stuck)} of {n} sessions did not finish their "
                                       f"turns within {SESSION_BUDGET_S} s (first: {stuck[0]!r})")
                bench.holders = [h for h in done if isinstance(h, Holder)]
                elapsed = time.perf_counter() - started
                memory_ids = await bench.memories()
                for k, h in enumerate(bench.holders):
                    other = bench.holders[(k + 1) % n]
                    theirs = sorted(memory_ids.get(other.principal, set()))
                    victim = theirs[0] if other.principal != h.principal and theirs else None
                    await bench.trespass(h, other, victim)
                bench.prompts(model)
        finally:
            await rt.aclose()
    kinds = ("prompt", "reply", "history", "config", "memory", "foreign_read")
    found = {k: bench.count[k] for k in kinds}
    total = sum(found.values())
    turns = n * (TURNS + 2)
    store = "redis" if backend.redis_url else "sql store"
    result = {"backend": f"{backend.name.split('+')[0]}+{store}", "sessions": n, "turns": turns,
              "prompts_recorded": bench.count["prompts_recorded"],
              "foreign_tries": bench.count["foreign_tries"], "crossings": found,
              "total_crossings": total, "turns_per_s": round(turns / elapsed, 1),
              "elapsed_s": round(elapsed, 1)}
    report("isolation", result, [[n, turns, result["prompts_recorded"],
                                  result["foreign_tries"], total, str(found)]],
           ["sessions", "turns", "prompts", "foreign tries", "crossings", "by kind"])
    return total
