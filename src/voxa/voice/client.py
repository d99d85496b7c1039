"""A minimal voice client on ``livekit.rtc``: join a session's room with the
token the API returned, speak PCM into it, send chat text, and collect the
agent's audio and transcriptions. Used by the e2e tests, the benchmarks and
``examples/voice_client.py``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from livekit import rtc

if TYPE_CHECKING:
    from piper import PiperVoice

TRANSCRIPTION_TOPIC = "lk.transcription"
CHAT_TOPIC = "lk.chat"
CALLER_VOICE = "en_US-joe-medium"


def caller_speech(text: str) -> tuple[bytes, int]:
    """``text`` as a caller says it: int16 mono PCM from the offline Piper
    voice, and its sample rate. Rendered the same way every time
    (``variation=0``): Piper's random renderings are misheard now and then
    ("opening hours" as "opening now"), a fixed one is checked once."""
    from voxa.speech.piper import piper_pcm

    voice = _caller_voice()
    return piper_pcm(voice, text, variation=0.0), voice.config.sample_rate


@cache
def _caller_voice() -> PiperVoice:
    from voxa.speech.piper import load_piper

    return load_piper(CALLER_VOICE)


@dataclass
class Transcript:
    identity: str
    text: str
    final: bool
    at: float


@dataclass
class AgentAudio:
    frames: list[tuple[float, np.ndarray]] = field(default_factory=list)
    sample_rate: int = 48_000

    def voiced_after(self, t: float, *, threshold: float = 500.0) -> float | None:
        """Time of the first frame after ``t`` whose RMS says someone is speaking."""
        for at, pcm in self.frames:
            if at >= t and pcm.size and float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) > (
                    threshold):
                return at
        return None

    def samples(self, since: float = 0.0) -> np.ndarray:
        parts = [pcm for at, pcm in self.frames if at >= since]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


class VoiceClient:
    def __init__(self, url: str, token: str, *, record_audio: bool = True) -> None:
        """``record_audio=False`` subscribes to the agent's audio (an agent only
        speaks to a listener) but does not pull its frames into Python: a test
        with many callers in one process leaves the cores to the stack. The
        agent's words still arrive as transcriptions."""
        self.url = url
        self.token = token
        self.record_audio = record_audio
        self.room = rtc.Room()
        self.transcripts: list[Transcript] = []
        self.agent_audio = AgentAudio()
        self.agent_identity: str | None = None
        self.agent_joined_at: float | None = None
        self.connected_at: float | None = None
        self.agent_states: list[str] = []  # the agent's lk.agent.state values, in order
        self._tasks: set[asyncio.Task[None]] = set()
        self._source: rtc.AudioSource | None = None
        self._changed = asyncio.Event()

    def _spawn(self, coro) -> None:  # type: ignore[no-untyped-def]
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def connect(self) -> None:
        room = self.room

        @room.on("participant_connected")
        def _joined(p: rtc.RemoteParticipant) -> None:
            if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
                self.agent_identity = p.identity
                self.agent_joined_at = time.monotonic()
                self._changed.set()

        @room.on("participant_attributes_changed")
        def _attrs(changed: dict[str, str], p: rtc.Participant) -> None:
            if p.identity == self.agent_identity and "lk.agent.state" in changed:
                self.agent_states.append(changed["lk.agent.state"])
            self._changed.set()

        @room.on("track_subscribed")
        def _track(track: rtc.Track, pub: rtc.RemoteTrackPublication,
                   p: rtc.RemoteParticipant) -> None:
            if self.record_audio and track.kind == rtc.TrackKind.KIND_AUDIO and (
                    p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT):
                self._spawn(self._read_audio(track))

        def _on_text(reader: rtc.TextStreamReader, identity: str) -> None:
            self._spawn(self._read_text(reader, identity))

        room.register_text_stream_handler(TRANSCRIPTION_TOPIC, _on_text)
        await room.connect(self.url, self.token, rtc.RoomOptions(auto_subscribe=True))
        self.connected_at = time.monotonic()
        for p in room.remote_participants.values():
            if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
                self.agent_identity = p.identity
                self.agent_joined_at = self.connected_at
                if state := p.attributes.get("lk.agent.state"):
                    self.agent_states.append(state)

    async def _read_audio(self, track: rtc.Track) -> None:
        stream = rtc.AudioStream(track, sample_rate=48_000, num_channels=1)
        async for ev in stream:
            pcm = np.frombuffer(ev.frame.data, dtype=np.int16).copy()
            self.agent_audio.frames.append((time.monotonic(), pcm))
            if len(self.agent_audio.frames) > 30_000:  # ~5 minutes of 10 ms frames
                del self.agent_audio.frames[:1000]

    async def _read_text(self, reader: rtc.TextStreamReader, identity: str) -> None:
        text = await reader.read_all()
        final = (reader.info.attributes or {}).get("lk.transcription_final", "true") == "true"
        self.transcripts.append(Transcript(identity, text, final, time.monotonic()))
        self._changed.set()

    async def wait_for(self, predicate: Callable[[], bool], within: float) -> bool:
        deadline = time.monotonic() + within
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.25))
        return True

    async def wait_for_agent(self, within: float = 30) -> bool:
        return await self.wait_for(lambda: self.agent_identity is not None, within)

    def agent_ready(self) -> bool:
        """The agent's session is running (LiveKit agents publish their state as
        the ``lk.agent.state`` attribute once they listen)."""
        agent = self.room.remote_participants.get(self.agent_identity or "")
        return agent is not None and agent.attributes.get("lk.agent.state") in (
            "listening", "thinking", "speaking")

    async def wait_until_ready(self, within: float = 60) -> bool:
        """Wait for an agent that listens: speech sent before that is not heard."""
        return await self.wait_for(self.agent_ready, within)

    async def wait_for_turn(self, within: float = 60) -> bool:
        """Wait until the agent has spoken and listens again. A user who talks
        over the agent's first words is not heard: livekit-agents feeds the
        recognizer silence for the first 3 s of agent speech (its echo
        cancellation warm-up)."""
        def listening_after_speaking() -> bool:
            states = self.agent_states
            return "speaking" in states and states[-1] == "listening"
        return await self.wait_for(listening_after_speaking, within)

    def agent_said(self, since: float = 0.0) -> list[str]:
        return [t.text for t in self.transcripts
                if t.identity == self.agent_identity and t.at >= since and t.text.strip()]

    def user_transcripts(self, since: float = 0.0) -> list[str]:
        """What the agent heard this client say: its final transcripts (an
        interim one of the same words may precede each)."""
        me = self.room.local_participant.identity
        return [t.text for t in self.transcripts
                if t.identity == me and t.final and t.at >= since]

    async def open_microphone(self, sample_rate: int) -> None:
        """Publish the microphone and wait until the agent listens to it, as a
        browser does when a call starts. Audio sent on a new track before the
        agent has subscribed is dropped by the server (the first words of the
        first question were lost; under load, whole words)."""
        if self._source is not None:
            return
        # a deep send queue: a busy event loop here must not leave a gap
        # mid-sentence (the agent's VAD would end the utterance there)
        self._source = rtc.AudioSource(sample_rate, 1, queue_size_ms=4000)
        track = rtc.LocalAudioTrack.create_audio_track("mic", self._source)
        pub = await self.room.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
        try:
            await asyncio.wait_for(pub.wait_for_subscription(), 30)
        except TimeoutError:
            raise TimeoutError("no one subscribed to the microphone within 30 s") from None
        await asyncio.sleep(0.5)  # for the agent's side to attach its stream

    async def say(self, pcm: bytes, sample_rate: int, *, trailing_silence: float = 1.2) -> float:
        """Speak int16 mono PCM in real time; returns when the speech ended."""
        await self.open_microphone(sample_rate)
        assert self._source is not None
        source = self._source
        step = source.sample_rate // 100  # 10 ms
        samples = np.frombuffer(pcm, dtype=np.int16)
        if sample_rate != source.sample_rate:
            n = int(len(samples) * source.sample_rate / sample_rate)
            samples = np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)),
                                samples).astype(np.int16)
        silence = np.zeros(int(source.sample_rate * trailing_silence), dtype=np.int16)
        ended_at = 0.0
        for part, is_speech in ((samples, True), (silence, False)):
            for i in range(0, len(part) - step + 1, step):
                chunk = part[i:i + step]
                await source.capture_frame(rtc.AudioFrame(chunk.tobytes(), source.sample_rate, 1,
                                                          len(chunk)))
            if is_speech:
                await source.wait_for_playout()
                ended_at = time.monotonic()
        return ended_at

    async def send_text(self, text: str) -> None:
        await self.room.local_participant.send_text(text, topic=CHAT_TOPIC)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.room.disconnect()
