"""The voice bench's fault run: one call whose turns meet a failing model
and a slow speech path. Every turn must be answered with audio (a reply or
the fallback line); the run reports the turns that got none.

Faults: with the local model its server is killed (SIGKILL) just before a
turn and restarts by itself (its watchdog); the scripted model fails
(``/fail``) and stalls past the bound (``/stall``) on demand instead. The slow
speech path is the inference process (Whisper and Piper) stopped (SIGSTOP)
for a few seconds as the caller's turn ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from voxa.voice.client import VoiceClient

SLOW_SPEECH_S = 4.0
REPLY_WITHIN_S = 60.0
# the bound the fault run's stack gives the model (VOXA_VOICE_MODEL_TIMEOUT_SECONDS)
MODEL_BOUND_S = 5.0


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(stat.parent.name))
    return out


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def _has(pid: int, what: str, file: str) -> bool:
    try:
        return what in Path(f"/proc/{pid}/{file}").read_text(errors="replace")
    except OSError:
        return False


def model_server_pid(root: int) -> int | None:
    return next((p for p in descendants(root) if _has(p, "llama_cpp.server", "cmdline")), None)


def inference_pid(root: int) -> int | None:
    """The worker's inference process: the one that loaded Whisper (CTranslate2)."""
    return next((p for p in descendants(root) if _has(p, "ctranslate2", "maps")), None)


async def _stop_for(pid: int, seconds: float, *, after: float) -> None:
    await asyncio.sleep(after)
    os.kill(pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)


async def fault_run(c: httpx.AsyncClient, slug: str, pcm: bytes, rate: int, *, llm: str,
                    serve_pid: int) -> dict[str, Any]:
    r = await c.post("/v1/sessions", json={"role": "customer", "business": slug,
                                           "channel": "voice", "customer": {"name": "Bench"}})
    r.raise_for_status()
    grant = r.json()
    client = VoiceClient(grant["livekit"]["url"], grant["livekit"]["token"])
    background: set[asyncio.Task[None]] = set()

    async def spoken() -> float:
        return await client.say(pcm, rate)

    def typed(text: str) -> Callable[[], Awaitable[float]]:
        async def send() -> float:
            at = time.monotonic()
            await client.send_text(text)
            return at
        return send

    async def model_killed() -> float:
        pid = model_server_pid(serve_pid)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        return await spoken()

    async def slow_speech() -> float:
        pid = inference_pid(serve_pid)
        if pid is not None:  # stalls as the caller stops talking: recognition waits
            task = asyncio.create_task(_stop_for(pid, SLOW_SPEECH_S,
                                                 after=len(pcm) / 2 / rate))
            background.add(task)
            task.add_done_callback(background.discard)
        return await spoken()

    turns: list[tuple[str, Callable[[], Awaitable[float]]]] = [("normal", spoken)]
    if llm == "local":
        turns += [("model killed", model_killed), ("model restarting", spoken)]
    else:
        turns += [("model fails", typed("/fail")), ("model stalls", typed("/stall 30"))]
    turns += [("slow speech", slow_speech), ("normal again", spoken)]
    results: list[dict[str, Any]] = []
    try:
        await client.connect()
        await client.wait_for_agent(60)
        await client.wait_until_ready(60)
        await client.wait_for(lambda: bool(client.agent_said()), 60)
        await client.wait_for_turn(60)
        for name, turn in turns:
            at = await turn()

            def replied(at: float = at) -> bool:
                return client.agent_audio.voiced_after(at) is not None

            await client.wait_for(replied, REPLY_WITHIN_S)
            first = client.agent_audio.voiced_after(at)
            results.append({"turn": name, "first_audio_ms":
                            round((first - at) * 1000) if first is not None else None})
            await client.wait_for_turn(REPLY_WITHIN_S)
        r = await c.get(f"/v1/sessions/{grant['session_id']}/messages?limit=200",
                        headers={"Authorization": f"Bearer {grant['session_token']}"})
        fallbacks = sum(1 for m in r.json()["messages"] if m.get("model_used") == "fallback")
    finally:
        await asyncio.gather(*background, return_exceptions=True)
        await client.aclose()
    return {"turns": results, "silent_turns": sum(1 for t in results
                                                  if t["first_audio_ms"] is None),
            "fallback_replies": fallbacks}
