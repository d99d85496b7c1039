"""Voice on the cluster: calls spread over both LiveKit nodes and both voice
workers; a worker drained with SIGTERM finishes its call first while new calls
go to the other; a worker killed with SIGKILL (its whole process group, as a
lost container) has its calls resumed by the other with their history; a
LiveKit node drained with SIGTERM keeps its call until it ends.

Each call is a real ``livekit.rtc`` client speaking by room text (the recording
model answers; Whisper is not needed), its worker found through the job's
heartbeat pid and its node through LiveKit's own ``room_node_map`` in Redis."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis import Redis

from tests.cluster.fake_model import RecordingModel
from tests.cluster.helpers import bearer, business, eventually, history, start
from tests.cluster.stack import Cluster, ClusterNode, Proc
from tests.conftest import REDIS_URL
from voxa.kv.base import TTLStore
from voxa.kv.keys import agent_pid_key
from voxa.voice.client import VoiceClient

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

log = logging.getLogger(__name__)
JOIN_S = 120  # a job process prewarms on two busy cores


@pytest.fixture
async def clients() -> AsyncIterator[list[VoiceClient]]:
    opened: list[VoiceClient] = []
    yield opened
    await asyncio.gather(*(c.aclose() for c in opened), return_exceptions=True)


async def call(http: httpx.AsyncClient, api: Proc, slug: str,
               clients: list[VoiceClient]) -> tuple[dict[str, Any], VoiceClient]:
    grant = await start(http, api.base, slug, channel="voice")
    c = VoiceClient(grant["livekit"]["url"], grant["livekit"]["token"], record_audio=False)
    clients.append(c)
    await c.connect()
    assert await c.wait_for_agent(JOIN_S), "no agent joined"
    assert await c.wait_until_ready(JOIN_S), "the agent never started listening"
    return grant, c


async def worker_of(stack: Cluster, store: TTLStore, grant: dict[str, Any]) -> Proc | None:
    pid = await store.get(agent_pid_key(grant["session_id"]))
    return stack.worker_of(int(pid)) if pid else None


def node_of(stack: Cluster, grant: dict[str, Any]) -> ClusterNode | None:
    assert REDIS_URL
    r = Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + f"/{stack.nodes[0].redis_db}")
    try:
        node_id = r.hget("room_node_map", grant["room_name"])
    finally:
        r.close()
    by_id = {n.node_id: n for n in stack.nodes}
    return by_id.get(node_id.decode()) if node_id else None


async def say(http: httpx.AsyncClient, api: Proc, grant: dict[str, Any], c: VoiceClient,
              text: str) -> list[dict[str, Any]]:
    """Room text to the agent; the history once its reply is stored."""
    await c.send_text(text)
    got: list[dict[str, Any]] = []

    async def answered() -> bool:
        got[:] = await history(http, api.base, grant)
        return any(m["role"] == "assistant" and m["content"] == f"You said: {text}" for m in got)

    assert await eventually(answered, 90, every=0.5), (text, got)
    return got


def _said(message: dict[str, Any]) -> tuple[Any, ...]:
    return message["id"], message["role"], message["content"], message["created_at"]


async def end(http: httpx.AsyncClient, api: Proc, grant: dict[str, Any], owner: str) -> None:
    r = await http.post(f"{api.base}/v1/sessions/{grant['session_id']}/end",
                        headers=bearer(owner))
    assert r.status_code == 200, r.text


async def test_calls_spread_over_both_nodes_and_both_workers(
        stack: Cluster, store: TTLStore, http: httpx.AsyncClient,
        clients: list[VoiceClient]) -> None:
    a, b = stack.apis
    slug, owner = await business(http, a.base, "spread")
    calls = []
    for i in range(4):  # one after another: LiveKit places each by the nodes' room counts
        calls.append(await call(http, (a, b)[i % 2], slug, clients))
    per_node = {n.node_id: 0 for n in stack.nodes}
    per_worker = {w.name: 0 for w in stack.workers}
    for grant, _ in calls:
        node, worker = node_of(stack, grant), await worker_of(stack, store, grant)
        assert node is not None and worker is not None, grant
        per_node[node.node_id] += 1
        per_worker[worker.name] += 1
    log.info("cluster figure: calls per LiveKit node %s, per voice worker %s",
             sorted(per_node.values()), per_worker)
    assert all(n > 0 for n in per_node.values()), per_node
    assert all(n > 0 for n in per_worker.values()), per_worker
    grant, c = calls[-1]
    await say(http, b, grant, c, f"{uuid.uuid4().hex[:6]} hello")
    for grant, _ in calls:
        await end(http, b, grant, owner)


async def test_a_worker_drained_with_sigterm_finishes_its_call_first(
        stack: Cluster, store: TTLStore, http: httpx.AsyncClient,
        clients: list[VoiceClient]) -> None:
    a, b = stack.apis
    slug, owner = await business(http, a.base, "drainw")
    grant, c = await call(http, a, slug, clients)
    draining = await worker_of(stack, store, grant)
    assert draining is not None
    t = uuid.uuid4().hex[:6]
    await say(http, a, grant, c, f"{t} before the drain")
    draining.signal(signal.SIGTERM)  # the worker only, as an orchestrator stops a container
    sent_at = time.monotonic()
    assert await eventually(lambda: "worker_draining" in draining.log(), 30)

    # the call goes on, served by the same job; a new call goes to the other worker
    await say(http, b, grant, c, f"{t} while draining")
    assert await worker_of(stack, store, grant) is draining
    grant2, _ = await call(http, b, slug, clients)
    other = await worker_of(stack, store, grant2)
    assert other is not None and other is not draining, "a draining worker took a new call"
    assert draining.alive(), "the worker stopped before its call ended"

    ended_at = time.monotonic()
    await end(http, a, grant, owner)
    assert await asyncio.to_thread(draining.wait_exit, 90) == 0, draining.log()[-3000:]
    done = time.monotonic()
    drained = [line for line in draining.log().splitlines() if "worker_drained" in line]
    assert drained and ("complete=True" in drained[0] or '"complete": true' in drained[0]), (
        draining.log()[-2000:])
    log.info("cluster figure: worker SIGTERM drain: call kept %.1f s until it ended, worker "
             "exited %.1f s after the call ended (%.1f s after SIGTERM)",
             ended_at - sent_at, done - ended_at, done - sent_at)
    await end(http, b, grant2, owner)

    # its replacement (as the orchestrator would start one) for the next test
    i = stack.workers.index(draining)
    node = stack.nodes[i]
    stack.workers[i] = stack.worker(f"{draining.name}-next", node)
    await asyncio.to_thread(stack.workers[i].wait_ready)


async def test_a_killed_workers_calls_resume_on_the_other_with_their_history(
        stack: Cluster, store: TTLStore, model: RecordingModel, http: httpx.AsyncClient,
        clients: list[VoiceClient]) -> None:
    a, b = stack.apis
    slug, owner = await business(http, b.base, "killw")
    calls = [await call(http, (a, b)[i % 2], slug, clients) for i in range(2)]
    victim = await worker_of(stack, store, calls[0][0])
    assert victim is not None
    survivor = next(w for w in stack.workers if w is not victim)
    mine = [(g, c) for g, c in calls if await worker_of(stack, store, g) is victim]
    t = uuid.uuid4().hex[:6]
    before = {}
    for i, (grant, c) in enumerate(mine):
        before[grant["session_id"]] = await say(http, a, grant, c, f"{t} before {i}")
    dead = {g["session_id"]: c.agent_identity for g, c in mine}

    victim.signal(signal.SIGKILL, group=True)  # the worker and its job processes at once
    killed_at = time.monotonic()
    resumed_s = []
    for i, (grant, c) in enumerate(mine):
        sid = grant["session_id"]

        async def taken_over(g: dict[str, Any] = grant) -> bool:
            return await worker_of(stack, store, g) is survivor

        async def heartbeat_lapsed(s: str = sid) -> bool:
            return not await store.exists(agent_pid_key(s))

        assert await eventually(lambda: _either(taken_over, heartbeat_lapsed), 30)
        if not await taken_over():  # the client asks for its agent back (as the page does)
            r = await http.post(f"{(a, b)[i % 2].base}/v1/sessions/{sid}/resume",
                                headers=bearer(grant["session_token"]))
            assert r.status_code == 200, r.text
        assert await eventually(taken_over, JOIN_S, every=0.25), "no agent came back"
        assert await c.wait_for(lambda c=c, sid=sid: c.agent_identity != dead[sid]
                                and c.agent_ready(), JOIN_S), "the new agent never listened"
        resumed_s.append(time.monotonic() - killed_at)
        after = await say(http, b, grant, c, f"{t} after {i}")
        # The conversation, not its recordings: a turn's audio is attached to
        # its message once encoded, which may be after `before` was read.
        kept = [_said(m) for m in before[sid]]
        assert [_said(m) for m in after[:len(kept)]] == kept, "history changed across the takeover"
        asked = model.calls_for(f"{t} after {i}")
        assert len(asked) == 1
        seen = [m["content"] for m in asked[0].messages]
        assert f"{t} before {i}" in seen and f"You said: {t} before {i}" in seen, seen
    lost = 0
    for grant, _ in mine:  # every turn stored before the kill is still there
        now = {_said(m) for m in await history(http, a.base, grant)}
        lost += sum(1 for m in before[grant["session_id"]] if _said(m) not in now)
    assert lost == 0
    log.info("cluster figure: worker SIGKILL: %d call(s) on it, resumed on the other after "
             "%s s (kill to agent listening), lost stored turns %d",
             len(mine), [round(s, 1) for s in resumed_s], lost)
    for grant, _ in calls:
        await end(http, a, grant, owner)


async def test_a_livekit_node_drained_with_sigterm_keeps_its_calls_until_they_end(
        stack: Cluster, http: httpx.AsyncClient, clients: list[VoiceClient]) -> None:
    """Last: the drained node is not restarted (LiveKit gives a node a new id)."""
    a, b = stack.apis
    slug, owner = await business(http, a.base, "drainn")
    grant, c = await call(http, a, slug, clients)
    node = node_of(stack, grant)
    assert node is not None
    t = uuid.uuid4().hex[:6]
    await say(http, b, grant, c, f"{t} before the node drains")
    node.terminate()
    sent_at = time.monotonic()
    assert await eventually(lambda: "exit requested" in node.log(), 30)
    await say(http, b, grant, c, f"{t} while the node drains")  # the call goes on
    assert node.alive(), "the node stopped before its call ended"
    ended_at = time.monotonic()
    await end(http, b, grant, owner)
    assert await asyncio.to_thread(node.wait_exit, 60) is not None, "the node did not exit"
    done = time.monotonic()
    log.info("cluster figure: LiveKit node SIGTERM drain: call kept %.1f s until it ended, "
             "node exited %.1f s after the call ended", ended_at - sent_at, done - ended_at)


async def _either(*checks: Any) -> bool:
    for check in checks:
        if await check():
            return True
    return False
