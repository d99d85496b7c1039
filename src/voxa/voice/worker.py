"""The voice worker: a ``livekit-agents`` server registered under the agent
name that session tokens dispatch. One name serves every role by default; an
operator can run dedicated pools that accept only some roles or businesses
(the request filter rejects the rest, and LiveKit offers the job elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from livekit.agents import AgentServer, JobRequest

from voxa.errors import InvalidInput
from voxa.infra.dispatch_metadata import names_another_session
from voxa.logs import get_logger
from voxa.sessions.rooms import parse_room_name
from voxa.settings import Settings
from voxa.speech.spec import validate as validate_speech
from voxa.voice.inference import register_runners
from voxa.voice.job import entrypoint, prewarm

log = get_logger(__name__)


@dataclass(frozen=True)
class PoolFilter:
    """Which jobs this worker takes; empty sets mean any."""

    roles: frozenset[str] = field(default_factory=frozenset)
    businesses: frozenset[str] = field(default_factory=frozenset)

    def accepts(self, room_name: str) -> tuple[bool, str]:
        try:
            room = parse_room_name(room_name)
        except InvalidInput:
            return False, "not a voxa session room"
        if self.roles and str(room.role) not in self.roles:
            return False, f"role {room.role} is served by another pool"
        if self.businesses and (room.business or "") not in self.businesses:
            return False, f"business {room.business} is served by another pool"
        return True, ""


def make_request_handler(pool: PoolFilter):  # type: ignore[no-untyped-def]
    async def on_request(req: JobRequest) -> None:
        ok, why = pool.accepts(req.room.name)
        if not ok:
            log.info("job_rejected", room=req.room.name, reason=why)
            await req.reject()
            return
        sid = parse_room_name(req.room.name).session_id
        if names_another_session(req.job.metadata, sid):
            log.warning("job_rejected", room=req.room.name, reason="metadata names another session")
            await req.reject()
            return
        # One identity per job, not per session: an agent resumed after its
        # worker died would otherwise share the dead agent's identity, and
        # LiveKit, removing the dead one as a duplicate, marked the *new* job
        # failed ("agent worker left the room") and ended it seconds later.
        await req.accept(name="voxa assistant", identity=f"agent-{sid}-{req.job.id}",
                         attributes={"sessionId": sid})

    return on_request


# livekit-server stops offering jobs to a worker whose load reaches its
# agents.target_load (0.7 unless configured otherwise).
LIVEKIT_TARGET_LOAD = 0.7


class CapacityServer(AgentServer):
    """An ``AgentServer`` whose load is its share of job slots in use.

    Load from slots is deterministic, unlike CPU load, which spikes while job
    processes prewarm and would turn a small burst of sessions away on 2 cores.
    Calls accepted but not yet launched count as slots too: livekit-agents 1.8
    otherwise estimates each such call, while no job is active, as the whole
    threshold divided by ``num_idle_processes`` — with one idle process the
    first of a burst of calls to an idle worker made it "full" and the others
    were refused until it launched (one of six was never served).
    """

    def __init__(self, *, max_jobs: int, **kwargs: Any) -> None:
        super().__init__(load_fnc=self._slot_load, **kwargs)
        self.max_jobs = max_jobs

    def slots_load(self, slots: int) -> float:
        return LIVEKIT_TARGET_LOAD * min(1.0, slots / self.max_jobs)

    def _slot_load(self, server: AgentServer) -> float:
        return self.slots_load(len(self.active_jobs))

    def _get_effective_load(self) -> float:
        return self.slots_load(len(self.active_jobs) + getattr(self, "_reserved_slots", 0))


def build_worker(settings: Settings, *, pool: PoolFilter | None = None,
                 num_idle_processes: int | None = None, load_threshold: float | None = None,
                 max_jobs: int | None = None) -> AgentServer:
    if not settings.livekit_configured:
        raise RuntimeError(
            "the voice worker needs LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET")
    assert settings.livekit_api_secret is not None
    validate_speech(settings)  # an unknown VOXA_STT/VOXA_TTS fails here, not in every job
    register_runners()
    server = CapacityServer(
        max_jobs=max_jobs or settings.worker_max_jobs,
        ws_url=settings.livekit_url, api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret.get_secret_value(),
        num_idle_processes=settings.worker_idle_processes if num_idle_processes is None
        else num_idle_processes,
        # the threshold is a share of capacity; the reported load is scaled
        load_threshold=LIVEKIT_TARGET_LOAD * (
            settings.worker_load_threshold if load_threshold is None else load_threshold),
        setup_fnc=prewarm, initialize_process_timeout=120,
        host=settings.worker_http_host, port=settings.worker_http_port,
        prometheus_port=settings.worker_metrics_port,
        job_memory_warn_mb=600, shutdown_process_timeout=15,
        preload_modules=["voxa.voice.forkserver"],
    )
    server.rtc_session(entrypoint, agent_name=settings.livekit_agent_name,
                       on_request=make_request_handler(pool or PoolFilter()))
    return server
