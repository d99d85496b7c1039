"""Text turns on the cluster: two API replicas, no sticky routing (the test
picks the replica), PostgreSQL and Redis shared. Turns stay ordered and
idempotent across replicas; a replica killed mid-turn loses no acknowledged
message and a retry elsewhere answers once; a replica drained with SIGTERM
finishes the turns it holds."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
import uuid

import httpx
import pytest

from tests.cluster.fake_model import HOLD, RecordingModel
from tests.cluster.helpers import business, eventually, history, send, start, unanswered
from tests.cluster.stack import Cluster

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

log = logging.getLogger(__name__)


def tag() -> str:
    return uuid.uuid4().hex[:8]


async def test_turns_sent_to_both_replicas_at_once_stay_ordered(
        stack: Cluster, model: RecordingModel, http: httpx.AsyncClient) -> None:
    a, b = stack.apis
    slug, _ = await business(http, a.base, "order")
    grant = await start(http, b.base, slug)
    t = tag()
    texts = [f"{t} m{i}" for i in range(6)]
    replies = await asyncio.gather(*(send(http, (a, b)[i % 2].base, grant, text)
                                     for i, text in enumerate(texts)))
    assert [r.status_code for r in replies] == [200] * 6, [r.text for r in replies]
    msgs = await history(http, a.base, grant)
    assert [m["role"] for m in msgs] == ["user", "assistant"] * 6, msgs
    assert unanswered(msgs, texts) == []
    # each model call saw exactly the turns before it, the previous reply included
    for k in range(6):
        asked = msgs[2 * k]["content"]
        calls = model.calls_for(asked)
        assert len(calls) == 1, (asked, calls)
        seen = [m["content"] for m in calls[0].messages if m["role"] != "system"]
        assert seen == [m["content"] for m in msgs[:2 * k + 1]], (k, seen)


async def test_same_client_message_id_on_both_replicas_runs_the_model_once(
        stack: Cluster, model: RecordingModel, http: httpx.AsyncClient) -> None:
    a, b = stack.apis
    slug, _ = await business(http, b.base, "idem")
    grant = await start(http, a.base, slug)
    text, cmid = f"{tag()} once", f"c-{tag()}"
    first, second = await asyncio.gather(send(http, a.base, grant, text, cmid),
                                         send(http, b.base, grant, text, cmid))
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert first.json()["reply"]["id"] == second.json()["reply"]["id"]
    assert sorted([first.json()["replayed"], second.json()["replayed"]]) == [False, True]
    assert len(model.calls_for(text)) == 1
    msgs = await history(http, b.base, grant)
    assert [m["content"] for m in msgs] == [text, f"You said: {text}"]


async def test_a_replica_killed_mid_turn_loses_nothing_and_a_retry_answers_once(
        stack: Cluster, model: RecordingModel, http: httpx.AsyncClient) -> None:
    a, b = stack.apis
    slug, _ = await business(http, b.base, "kill")
    grant = await start(http, b.base, slug)
    t = tag()
    acknowledged = []
    for i, replica in enumerate((a, b, a)):
        text = f"{t} ack{i}"
        r = await send(http, replica.base, grant, text, f"{t}-ack{i}")
        assert r.status_code == 200, r.text
        acknowledged.append(text)

    held, cmid = f"{t} {HOLD} in flight", f"{t}-held"
    turn = asyncio.create_task(send(http, a.base, grant, held, cmid))
    assert await eventually(lambda: len(model.calls_for(held)) == 1, 60), "the turn never ran"
    a.signal(signal.SIGKILL, group=True)  # inside the model call
    killed_at = time.monotonic()
    with pytest.raises(httpx.TransportError):
        await turn
    model.release(held)
    retry = await send(http, b.base, grant, held, cmid)
    assert retry.status_code == 200, retry.text
    assert retry.json()["reply"]["content"] == f"You said: {held}"
    retried_s = time.monotonic() - killed_at
    again = await send(http, b.base, grant, held, cmid)  # a second retry: replayed
    assert again.json()["replayed"] is True
    assert again.json()["reply"]["id"] == retry.json()["reply"]["id"]

    msgs = await history(http, b.base, grant)
    lost = unanswered(msgs, acknowledged)
    assert lost == [], msgs
    assert [m["content"] for m in msgs].count(held) == 1
    assert [m["content"] for m in msgs].count(f"You said: {held}") == 1
    assert [m["role"] for m in msgs] == ["user", "assistant"] * 4, msgs
    log.info("cluster figure: api replica SIGKILL mid-turn: lost acknowledged turns %d; "
             "retry on the other replica answered %.1f s after the kill; model calls for "
             "the message %d (killed one + retry)", len(lost), retried_s,
             len(model.calls_for(held)))

    await asyncio.to_thread(a.wait_exit, 30)
    a.start()  # the replica comes back (as its orchestrator would restart it)
    await asyncio.to_thread(a.wait_ready)


async def test_a_replica_drained_with_sigterm_finishes_its_turn_first(
        stack: Cluster, model: RecordingModel, http: httpx.AsyncClient) -> None:
    a, b = stack.apis
    slug, _ = await business(http, b.base, "drain")
    grant = await start(http, a.base, slug)
    held = f"{tag()} {HOLD} while draining"
    turn = asyncio.create_task(send(http, a.base, grant, held))
    assert await eventually(lambda: len(model.calls_for(held)) == 1, 60), "the turn never ran"
    a.signal(signal.SIGTERM)
    drain_at = time.monotonic()

    async def refuses_new_connections() -> bool:
        try:
            await http.get(f"{a.base}/healthz", timeout=2)
        except httpx.TransportError:
            return True
        return False

    assert await eventually(refuses_new_connections, 30), "the drained replica still accepts"
    assert a.alive() and not turn.done(), "the replica stopped before its turn ended"
    other = await send(http, b.base, await start(http, b.base, slug), "meanwhile")
    assert other.status_code == 200, other.text  # the other replica serves the rest
    released_at = time.monotonic()
    model.release(held)
    r = await turn
    assert r.status_code == 200, r.text
    assert r.json()["reply"]["content"] == f"You said: {held}"
    assert await asyncio.to_thread(a.wait_exit, 60) is not None, "the replica did not exit"
    exited_at = time.monotonic()
    msgs = await history(http, b.base, grant)
    assert unanswered(msgs, [held]) == []
    log.info("cluster figure: api replica SIGTERM drain: the turn was held in the model "
             "%.1f s after SIGTERM and answered; the replica exited %.1f s after the model "
             "replied (%.1f s after SIGTERM)", released_at - drain_at,
             exited_at - released_at, exited_at - drain_at)
    a.start()
    await asyncio.to_thread(a.wait_ready)
