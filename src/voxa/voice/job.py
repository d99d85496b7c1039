"""One voice job = one session's room.

connect → wait for the participant → load the session by ``sessionId`` and
refuse the job if the room, the participant's identity or attributes disagree
with it → set the context → start the ``AgentSession`` with the session's own
voice → greet once → persist every turn as it happens → heartbeat → on exit
save and clean up.

Runs inside a job process; everything it needs comes from the environment
(settings) and from the store and database, never from the parent's memory.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

from livekit import rtc
from livekit.agents import (
    AgentSession,
    AutoSubscribe,
    JobContext,
    JobProcess,
    llm,
    room_io,
)
from livekit.agents.voice.agent_session import SessionConnectOptions
from opentelemetry import trace

from voxa import tracing
from voxa.agent.assistant import load_persona
from voxa.agent.context_window import load_window, summary_note
from voxa.agent.models import (
    LOCAL_LLM_URL_ENV,
    MODEL_CONN_OPTIONS,
    build_llm,
)
from voxa.agent.pipeline import TurnPipeline
from voxa.agent.tools import build_tools
from voxa.context import session_scope
from voxa.domain import SessionStatus
from voxa.errors import InvalidInput
from voxa.infra.dispatch_metadata import names_another_session
from voxa.logs import configure_logging, get_logger
from voxa.runtime import Runtime, open_runtime
from voxa.sessions.config import load_config
from voxa.sessions.rooms import parse_room_name
from voxa.settings import build_settings
from voxa.storage.models import AgentMessage
from voxa.storage.models import AgentSession as SessionRow
from voxa.storage.repos import businesses as businesses_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.tenancy import bind_db_scope, db_scope
from voxa.voice.inference import SPEECH_CONN_OPTIONS
from voxa.voice.never_silent import SpeechFallback
from voxa.voice.owner_presence import OwnerPresence, wait_for_caller
from voxa.voice.recording import TurnRecorder
from voxa.voice.room_text import RoomTextGate
from voxa.voice.silence import SilenceWatch, end_for_silence
from voxa.voice.speech_providers import SpeechNeeds, build_stt, build_tts
from voxa.voice.transcript import Heartbeat, TranscriptWriter
from voxa.voice.turn_hooks import VoiceAssistant, VoiceTurns

log = get_logger("voxa.voice.job")

MAX_SPEECH_FAILURES = 50  # in a row, before livekit-agents gives the call up


def prewarm(proc: JobProcess) -> None:
    """Ready a job process before any job arrives: imports and the VAD. Whisper
    and Piper live in the worker's one inference process (``voice.inference``)."""
    import openai.lib.streaming.chat
    import openai.resources.chat.completions
    import openai.types.audio  # noqa: F401
    from livekit.plugins import openai as _lk_openai  # noqa: F401
    from livekit.plugins import silero

    started = time.perf_counter()
    # livekit-agents' own spans (user turn, STT, LLM, TTS) go to voxa's provider
    provider = tracing.setup_tracing(build_settings(), service="voxa-worker")
    if provider is not None:
        tracing.use_in_livekit_agents(provider)
    proc.userdata["vad"] = silero.VAD.load()
    log.info("job_process_prewarmed", ms=int((time.perf_counter() - started) * 1000))


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str


async def verify(rt: Runtime, room_name: str, participant: rtc.RemoteParticipant,
                 job_metadata: str) -> SessionRow | Refusal:
    """The stored session this job serves, or why the job must be refused.

    The participant's attributes were signed by voxa, but the job trusts the
    store: every claim is compared with the session row.
    """
    try:
        parsed = parse_room_name(room_name)
    except InvalidInput:
        return Refusal("room name is not a voxa session room")
    attrs = participant.attributes
    if attrs.get("sessionId") != parsed.session_id:
        return Refusal("participant sessionId does not match the room")
    if names_another_session(job_metadata, parsed.session_id):
        return Refusal("dispatch metadata names another session")
    # the worker learns the session's tenant from this row (LiveKit's dispatch is trusted)
    with db_scope(Scope.system()):
        async with rt.db() as db:
            row = await sessions_repo.get(db, parsed.session_id, scope=Scope.system())
            business = (await businesses_repo.get_by_id(db, row.business_id)
                        if row is not None and row.business_id else None)
    if row is None:
        return Refusal("no such session")
    if row.status != SessionStatus.active:
        return Refusal(f"session is {row.status}")
    if row.room_name != room_name:
        return Refusal("session belongs to another room")
    if attrs.get("role") != row.role or parsed.role != row.role:
        return Refusal("role does not match the stored session")
    if attrs.get("businessId", "") != (business.slug if business else ""):
        return Refusal("business does not match the stored session")
    if participant.identity != f"{row.role}-{row.user_id}":
        return Refusal("participant identity does not match the stored session")
    return row


def _llm_for_job(rt: Runtime) -> llm.LLM[Any]:
    # Short replies: a call's answer is spoken, and speech time grows with it.
    return build_llm(rt.settings, local_url=os.environ.get(LOCAL_LLM_URL_ENV), max_tokens=120)


async def _history(rt: Runtime, row: SessionRow) -> tuple[llm.ChatContext, bool]:
    """The last messages (plus summary) as the agent's starting context, and
    whether the assistant has already spoken in this session (no second greeting)."""
    async with rt.db() as db:
        window = await load_window(db, row)
        spoke = (await db.execute(
            AgentMessage.__table__.select().where(
                AgentMessage.session_id == row.session_id, AgentMessage.role == "assistant"
            ).limit(1))).first() is not None
    ctx = llm.ChatContext.empty()
    if window.summary:
        ctx.add_message(role="system", content=summary_note(window.summary))
    for m in window.messages:
        ctx.add_message(role=m.role, content=m.content)  # type: ignore[arg-type]
    return ctx, spoke


async def _mark(rt: Runtime, session_id: str, **values: Any) -> None:
    async with rt.db() as db:
        await sessions_repo.merge_context(db, session_id, values, scope=Scope.system())
        await db.commit()


class _JobState:
    """What the job must put right when it ends, in order, then close."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.writer: TranscriptWriter | None = None
        self.heartbeat: Heartbeat | None = None
        self.silence: SilenceWatch | None = None
        self.presence: OwnerPresence | None = None
        self.fallback: SpeechFallback | None = None
        self.recorder: TurnRecorder | None = None
        self.session_id: str | None = None
        self.tenant: Scope | None = None

    async def finish(self, reason: str) -> None:
        # a shutdown callback runs outside the job task's context: bind again
        with db_scope(self.tenant):
            await self._finish(reason)

    async def _finish(self, reason: str) -> None:
        try:
            if self.silence is not None:
                await self.silence.stop()
            if self.presence is not None:
                await self.presence.aclose()
            if self.fallback is not None:
                await self.fallback.aclose()
            if self.writer is not None:
                await self.writer.flush()
            if self.recorder is not None:
                await self.recorder.flush()
            if self.heartbeat is not None:
                await self.heartbeat.stop()
            if self.session_id is not None:
                await _mark(self.rt, self.session_id, agent_status="exited")
                log.info("job_finished", reason=reason,
                         persisted=self.writer.written if self.writer else 0)
        finally:
            await self.rt.aclose()


async def entrypoint(ctx: JobContext) -> None:
    settings = build_settings()
    configure_logging(settings)
    state = _JobState(await open_runtime(settings, run_migrations=False))
    ctx.add_shutdown_callback(state.finish)
    ctx.add_shutdown_callback(tracing.flush)
    # the job joins the trace of the request that dispatched it (traceparent
    # in the dispatch metadata); livekit-agents' session spans nest below
    with tracing.span("voxa.voice.job", context=tracing.context_from_metadata(ctx.job.metadata),
                      room=ctx.room.name):
        await _serve(ctx, state)


async def _serve(ctx: JobContext, state: _JobState) -> None:
    rt = state.rt
    joined_at = time.perf_counter()
    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)
    participant = await wait_for_caller(ctx.room)
    checked = await verify(rt, ctx.room.name, participant, ctx.job.metadata)
    if isinstance(checked, Refusal):
        log.warning("job_refused", room=ctx.room.name, reason=checked.reason,
                    identity=participant.identity)
        ctx.shutdown(reason=f"refused: {checked.reason}")
        return
    row = checked
    trace.get_current_span().set_attributes(
        tracing.session_attributes(row.session_id, row.business_id, row.role))
    # everything the job does from here on (and every task it starts) touches
    # only this session's tenant
    state.tenant = Scope.user(row.user_id, row.business_id)
    bind_db_scope(state.tenant)
    assistant_llm = _llm_for_job(rt)
    chat_ctx, already_spoke = await _history(rt, row)
    config = await load_config(rt.store, rt.db, row, max_hours=rt.settings.session_max_hours)
    voice = rt.voices.resolve(str(config.get("voice") or rt.voices.default.id))
    userdata = ctx.proc.userdata
    if "vad" not in userdata:  # not prewarmed
        prewarm(ctx.proc)
    vad = userdata["vad"]
    speech = SpeechNeeds(executor=ctx.inference_executor, vad=vad,
                         language=str(config.get("language") or "en"), voice=voice,
                         speaking_rate=float(config.get("speaking_rate", 1.0)))

    heartbeat = Heartbeat(rt, row.session_id)
    if not await heartbeat.claim():
        log.warning("job_refused", room=ctx.room.name, reason="another agent serves this session")
        ctx.shutdown(reason="refused: another agent serves this session")
        return
    state.heartbeat = heartbeat
    # every turn goes through the pipeline text turns use (``voice/turn_hooks.py``)
    state.recorder = recorder = TurnRecorder(rt, session_id=row.session_id,
                                             scope=state.tenant)
    turns = VoiceTurns(TurnPipeline(rt, assistant_llm), row,
                       model_bound=rt.settings.voice_model_timeout_seconds, recorder=recorder)
    persona = await load_persona(rt, row)
    assistant = VoiceAssistant(persona, build_tools(rt, persona.ctx, persona.tools), turns,
                               chat_ctx=chat_ctx, greet=not already_spoke)
    state.session_id = row.session_id
    state.writer = writer = TranscriptWriter(
        rt, session_id=row.session_id, user_id=row.user_id, business_id=row.business_id,
        model=assistant_llm.model)
    closed = asyncio.Event()
    state.silence = silence = SilenceWatch(rt.settings.voice_silence_seconds)
    state.presence = presence = OwnerPresence(rt, row, keep=turns.user_turn, silence=silence)
    assistant.hold = presence.hold_turn
    text_gate = RoomTextGate(session_id=row.session_id, max_chars=rt.settings.max_text_chars,
                             rate=rt.settings.limit_turns_per_session,
                             on_accepted=silence.activity)
    text_gate.hold = presence.hold_turn

    tts = build_tts(rt.settings, speech)
    with session_scope(assistant.persona.ctx):
        session: AgentSession[None] = AgentSession(
            stt=build_stt(rt.settings, speech), llm=assistant_llm, tts=tts, vad=vad,
            # One shared local model on a few cores: speculative requests only
            # queue behind real ones (and a cancelled one was seen not to be
            # re-issued), so answer once the turn is over.
            turn_handling={"preemptive_generation": {"enabled": False}},
            conn_options=SessionConnectOptions(llm_conn_options=MODEL_CONN_OPTIONS,
                                               stt_conn_options=SPEECH_CONN_OPTIONS,
                                               tts_conn_options=SPEECH_CONN_OPTIONS,
                                               # each failure gets a fallback line
                                               # (never_silent.py); the call goes on
                                               max_unrecoverable_errors=MAX_SPEECH_FAILURES),
        )
        state.fallback = fallback = SpeechFallback(session, rt.metrics)
        session.on("error", fallback.on_error)

        @session.on("agent_state_changed")
        def _on_state(ev: Any) -> None:
            # the failed-speech line is rendered once the first line was spoken
            if ev.old_state == "speaking" and not fallback.prepared:
                fallback.prepare(tts)

        @session.on("conversation_item_added")
        def _on_item(ev: Any) -> None:
            item = ev.item
            # the turns and replies are persisted by the pipeline; what is left
            # is the agent's own lines (the greeting, a goodbye)
            if (isinstance(item, llm.ChatMessage) and item.role in ("user", "assistant")
                    and not turns.persisted(item.role, item.text_content or "")):
                writer.add(item.role, item.text_content or "")

        @session.on("user_input_transcribed")
        def _on_heard(ev: Any) -> None:
            if ev.transcript.strip():
                silence.activity()

        @session.on("close")
        def _on_close(ev: Any) -> None:
            closed.set()

        await heartbeat.start()
        await _mark(rt, row.session_id, agent_status="running", agent_pid=os.getpid(),
                    agent_voice=voice.id)
        await ctx.room.local_participant.set_attributes(
            {"sessionId": row.session_id, "voice": voice.id, "engine": voice.engine})
        await session.start(
            agent=assistant, room=ctx.room, record=False,
            room_options=room_io.RoomOptions(
                participant_identity=participant.identity, close_on_disconnect=True,
                text_input=room_io.TextInputOptions(text_input_cb=text_gate)),
        )
        presence.watch(ctx.room, session)
        rt.metrics.agent_join_delay.observe(time.perf_counter() - joined_at)
        log.info("agent_joined", voice=voice.id, greet=not already_spoke,
                 join_ms=int((time.perf_counter() - joined_at) * 1000))
        silence.start()
        waits = [asyncio.create_task(e.wait()) for e in (
            writer.session_ended, turns.session_ended, heartbeat.session_over, closed,
            silence.expired)]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for t in waits:
            t.cancel()
        if silence.expired.is_set() and not closed.is_set():
            await end_for_silence(rt, row, session, writer)
        ctx.shutdown(reason="session closed" if closed.is_set()
                     else "caller silent" if silence.expired.is_set() else "session ended")
