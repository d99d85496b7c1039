"""A voice session is one trace across processes: the HTTP request that
starts it (in the API process) and the voice job that serves it (a job
process of the worker), with livekit-agents' turn spans below the job's,
exported over OTLP to a real receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import SQLITE
from tests.otlp_receiver import otlp_receiver
from tests.voice.helpers import business, join, wait_history
from voxa.bench.common import serve
from voxa.voice.client import VoiceClient

pytestmark = [pytest.mark.slow, pytest.mark.voice]

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{CALLER_TRACE}-b7ad6b7169203331-01"


@pytest.fixture
async def clients() -> AsyncIterator[list[VoiceClient]]:
    opened: list[VoiceClient] = []
    yield opened
    await asyncio.gather(*(c.aclose() for c in opened), return_exceptions=True)


async def test_voice_job_joins_the_trace_of_the_request_that_started_it(
        tmp_path: Path, clients: list[VoiceClient]) -> None:
    with otlp_receiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
               "OTEL_BSP_SCHEDULE_DELAY": "500", "VOXA_VOICE_SILENCE_SECONDS": "900"}
        with serve(SQLITE, tmp_path / "data", voice=True, extra_env=env, log_level="INFO") as s:
            async with httpx.AsyncClient(base_url=s.base, timeout=60) as api:
                slug, _ = await business(api, "traced")
                r = await api.post("/v1/sessions", headers={"traceparent": TRACEPARENT},
                                   json={"channel": "voice", "role": "customer",
                                         "business": slug, "customer": {"name": "Tia"}})
                assert r.status_code == 201, r.text
                grant = r.json()
                c = await join(clients, grant, record_audio=False)
                assert await c.wait_for_turn(60)
                await c.send_text("Tell me about pears")
                msgs = await wait_history(api, grant, lambda m: any(
                    x["role"] == "assistant" and "pears" in x["content"] for x in m), 60)
                assert any("pears" in m["content"] for m in msgs if m["role"] == "assistant")
            await c.aclose()
        # serve has stopped: every process flushed its spans on the way out

    [job] = [sp for sp in receiver.named("voxa.voice.job")
             if sp.attributes.get("session_id") == grant["session_id"]]
    assert job.service == "voxa-worker" and job.trace_id == CALLER_TRACE, job
    api_spans = [sp for sp in receiver.spans
                 if sp.trace_id == CALLER_TRACE and sp.service == "voxa-api"]
    assert api_spans, "the API process's request span is not in the caller's trace"
    # livekit-agents' spans of the call sit in the same trace, below the job's span
    in_trace = {sp.span_id: sp for sp in receiver.spans if sp.trace_id == CALLER_TRACE}

    def below_job(sp: object) -> bool:
        seen = sp
        while getattr(seen, "parent_id", "") in in_trace:
            seen = in_trace[seen.parent_id]  # type: ignore[attr-defined]
            if seen is job:
                return True
        return False

    names = {sp.name for sp in in_trace.values() if below_job(sp)}
    assert {"llm_node", "tts_node"} <= names, sorted(names)
