"""N concurrent sessions across 10 businesses and every role, each sending
distinctive tokens through several turns; counts anything that shows up in a
session it does not belong to (must be 0)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from voxa.bench.common import BENCH_LIMITS, Backend, report, scratch_dir, serve

VOICES = ["joe", "craig", "olivia", "aria", "max"]


async def run(backend_name: str, quick: bool, n: int = 1000) -> None:
    n = 100 if quick else n
    turns = 3
    with scratch_dir() as d:
        backend = Backend.choose(backend_name, d)
        with serve(backend, d, extra_env=BENCH_LIMITS) as srv:
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
            async with httpx.AsyncClient(base_url=srv.base, timeout=120, limits=limits) as c:
                owners = []
                for b in range(10):
                    slug = f"iso{b}-{uuid.uuid4().hex[:5]}"
                    r = await c.post("/v1/businesses", json={"name": slug, "slug": slug, "owner": {
                        "email": f"o@{slug}.example.com", "name": "O", "password": "password123"}})
                    r.raise_for_status()
                    owners.append((slug, r.json()["token"]))
                generals = []
                for g in range(20):
                    r = await c.post("/v1/users", json={
                        "email": f"g{g}-{uuid.uuid4().hex[:5]}@example.com", "name": f"G{g}",
                        "password": "password123"})
                    r.raise_for_status()
                    generals.append(r.json()["token"])

                sem = asyncio.Semaphore(50)
                crossings = {"reply": 0, "config": 0, "memory": 0, "history": 0}
                tokens: dict[int, str] = {}

                async def one(i: int) -> dict[str, Any]:
                    async with sem:
                        kind = ("customer", "customer", "owner", "general")[i % 4]
                        slug, owner_token = owners[i % 10]
                        voice = VOICES[i % 5]
                        body: dict[str, Any] = {"role": kind, "config": {"voice": voice}}
                        headers = {}
                        if kind == "customer":
                            body.update(business=slug, customer={"name": f"c{i}"})
                        elif kind == "owner":
                            headers = {"Authorization": f"Bearer {owner_token}"}
                        else:
                            headers = {"Authorization": f"Bearer {generals[i % 20]}"}
                        r = await c.post("/v1/sessions", json=body, headers=headers)
                        r.raise_for_status()
                        s = r.json()
                        h = {"Authorization": f"Bearer {s['session_token']}"}
                        tokens[i] = tok = f"zq{i:05d}x"
                        for k in range(turns):
                            text = f"My favorite color is {tok}" if k == 0 else f"{tok} turn {k}"
                            r = await c.post(f"/v1/sessions/{s['session_id']}/messages",
                                             json={"text": text}, headers=h)
                            r.raise_for_status()
                            reply = r.json()["reply"]["content"]
                            if tok not in reply or reply.count("zq") != 1:
                                crossings["reply"] += 1
                        got = (await c.get(f"/v1/sessions/{s['session_id']}", headers=h)).json()
                        if got["config"]["voice"] != voice:
                            crossings["config"] += 1
                        hist = (await c.get(f"/v1/sessions/{s['session_id']}/messages",
                                            headers=h)).json()["messages"]
                        if any(tok not in m["content"] for m in hist) or len(hist) != 2 * turns:
                            crossings["history"] += 1
                        # whose memories: the account for owners and general users
                        # (all their sessions), the session's own customer otherwise
                        return {"i": i, "kind": kind, "principal": headers or h}

                start = time.perf_counter()
                done = await asyncio.gather(*(one(i) for i in range(n)))
                elapsed = time.perf_counter() - start
                # Memories: each holder sees only tokens it stated itself (general
                # users and owners hold several sessions: all of theirs, no one else's).
                own: dict[str, set[str]] = {}
                for item in done:
                    key = item["principal"]["Authorization"]
                    own.setdefault(key, set()).add(tokens[item["i"]])
                for key, mine in own.items():
                    r = await c.get("/v1/me/memories", headers={"Authorization": key})
                    values = {m["value"] for m in r.json()["memories"]}
                    crossings["memory"] += len({v for v in values if v.startswith("zq")} - mine)
    total = sum(crossings.values())
    result = {"backend": backend.name, "sessions": n, "turns": n * turns,
              "crossings": crossings, "total_crossings": total,
              "turns_per_s": round(n * turns / elapsed, 1), "elapsed_s": round(elapsed, 1)}
    report("isolation", result, [[n, n * turns, result["turns_per_s"], total, str(crossings)]],
           ["sessions", "turns", "turns/s", "crossings", "by kind"])
