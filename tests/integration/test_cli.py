"""The CLI as a user runs it: `voxa migrate`, `voxa cleanup`, `voxa token`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from livekit import api

from tests.conftest import LIVEKIT_TEST, make_settings
from voxa.domain import Role
from voxa.runtime import open_runtime
from voxa.sessions.service import CustomerInfo, StartRequest, start_session
from voxa.storage.models import AgentConfig, Business


def voxa(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VOXA_", "LIVEKIT_"))}
    return subprocess.run([sys.executable, "-m", "voxa.cli", *args],
                          env={**base, "VOXA_DATA_DIR": str(data_dir), "VOXA_ENV": "test", **env},
                          capture_output=True, text=True, timeout=120)


async def test_migrate_cleanup_and_token(tmp_path: Path) -> None:
    data = tmp_path / "data"
    r = voxa("migrate", data_dir=data)
    assert r.returncode == 0, r.stderr
    assert (data / "voxa.db").exists()
    assert voxa("migrate", data_dir=data).returncode == 0  # idempotent

    settings = make_settings(tmp_path)
    rt = await open_runtime(settings, run_migrations=False)
    try:
        async with rt.db() as db:
            b = Business(slug="cli-co", name="CLI")
            db.add(b)
            await db.flush()
            db.add(AgentConfig(business_id=b.id, name="a", is_default=True))
            await db.commit()
        grant = await start_session(rt, StartRequest(role=Role.customer, channel="voice",
                                                     business="cli-co",
                                                     customer=CustomerInfo(name="Cy")), None)
    finally:
        await rt.aclose()

    lk_env = {"LIVEKIT_URL": str(LIVEKIT_TEST["livekit_url"]),
              "LIVEKIT_API_KEY": str(LIVEKIT_TEST["livekit_api_key"]),
              "LIVEKIT_API_SECRET": str(LIVEKIT_TEST["livekit_api_secret"])}
    r = voxa("token", grant.row.session_id, data_dir=data, **lk_env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    claims = api.TokenVerifier(lk_env["LIVEKIT_API_KEY"], lk_env["LIVEKIT_API_SECRET"]).verify(
        out["token"])
    assert claims.video.room == out["room"] == grant.row.room_name
    assert claims.attributes["sessionId"] == grant.row.session_id

    assert voxa("token", grant.row.session_id, data_dir=data).returncode == 2  # no LiveKit
    assert voxa("token", "1" * 13 + "-00000000-0000-4000-8000-000000000000", data_dir=data,
                **lk_env).returncode == 1  # unknown session

    r = voxa("cleanup", data_dir=data)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {
        "timed_out": 0, "stale_agents": 0, "audio_deleted": 0, "skipped": False}
