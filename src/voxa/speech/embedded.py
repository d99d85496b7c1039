"""``voxa serve`` with ``VOXA_SERVE_SPEECH=server``: a ``voxa speech`` child on
a free loopback port, with a generated key, that the embedded worker reaches
through ``VOXA_STT=openai:whisper-1`` / ``VOXA_TTS=openai:tts-1``."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time

from pydantic import SecretStr

from voxa.logs import get_logger
from voxa.procs import batch_child, stop_group
from voxa.settings import Settings

log = get_logger("voxa.speech")


class EmbeddedSpeech:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.work_dir = settings.data_dir.resolve() / "speech"
        self.key = secrets.token_urlsafe(24)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, *, wait_s: float = 300) -> str:
        """The server's base URL, once it listens (its models are loaded by then)."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.work_dir / "port"
        port_file.unlink(missing_ok=True)
        env = {**os.environ, "VOXA_SPEECH_API_KEY": self.key,
               "VOXA_DATA_DIR": str(self.settings.data_dir.resolve())}
        with open(self.work_dir / "speech.log", "ab") as out:
            # batch niceness, like the worker's inference process: the audio
            # path (job processes, livekit-server) goes first
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "voxa.cli", "speech", "--port", "0", "--port-file",
                 str(port_file), "--replicas", str(self.settings.serve_speech_replicas)],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=batch_child)
        deadline = time.monotonic() + wait_s
        while not port_file.exists():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"voxa speech did not start; see {self.work_dir}/speech.log")
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port_file.read_text()}/v1"
        log.info("embedded_speech_started", url=url, pid=self._proc.pid,
                 replicas=self.settings.serve_speech_replicas)
        return url

    def configure(self, settings: Settings, url: str) -> Settings:
        """``settings`` whose worker speaks and listens through this server."""
        key = SecretStr(self.key)
        return settings.model_copy(update={
            "stt": "openai:whisper-1", "stt_base_url": url, "stt_api_key": key,
            "tts": "openai:tts-1", "tts_base_url": url, "tts_api_key": key})

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        stop_group(proc, timeout=30)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)


def wants_embedded_speech(settings: Settings) -> bool:
    """Only when this deployment's speech is the offline engines (a provider
    configured by hand is left alone)."""
    return settings.serve_speech == "server" and settings.stt == "local" \
        and settings.tts == "local"


__all__ = ["EmbeddedSpeech", "wants_embedded_speech"]
