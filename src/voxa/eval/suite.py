"""One ``voxa eval`` run: a throw-away runtime (SQLite + memory store in a
temporary directory), the configured model started the way ``serve`` starts
it, the app, and every chosen scenario in turn."""

from __future__ import annotations

import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from livekit.agents import llm

from voxa.api.app import create_app, start_model
from voxa.eval.runner import Harness, ScenarioResult
from voxa.eval.scenarios import Scenario
from voxa.kv import create_store
from voxa.runtime import open_runtime
from voxa.settings import Settings, build_settings

# Sessions are minted with LiveKit grants; the eval never connects to LiveKit.
_OFFLINE_LIVEKIT = {"livekit_url": "ws://127.0.0.1:1", "livekit_api_key": "evalkey",
                    "livekit_api_secret": "eval-secret-that-is-long-enough-0123456789"}


def eval_settings(data_dir: Path, llm_name: str) -> Settings:
    """Always a fresh SQLite file and the in-process store, whatever VOXA_DATABASE_URL
    and VOXA_REDIS_URL say: an eval never writes to a real deployment's data. The
    model's base URL and key come from the environment (``openai:<model>``)."""
    settings = build_settings(env="test", data_dir=data_dir, llm=llm_name, **_OFFLINE_LIVEKIT)
    return settings.model_copy(update={
        "database_url": f"sqlite+aiosqlite:///{(data_dir / 'eval.db').resolve()}",
        "redis_url": None})


async def run_scenarios(scenarios: list[Scenario], *, llm_name: str,
                        model: llm.LLM[Any] | None = None,
                        ) -> tuple[list[ScenarioResult], str]:
    """Run the scenarios one after another; returns the results and the model's name."""
    with tempfile.TemporaryDirectory(prefix="voxa-eval-") as tmp:
        settings = eval_settings(Path(tmp), llm_name)
        async with AsyncExitStack() as stack:
            rt = await open_runtime(settings, store=create_store(None, prefix="eval:"))
            stack.push_async_callback(rt.aclose)
            chosen = model or await start_model(settings, stack)
            app = create_app(settings, runtime=rt, model=chosen)
            harness = Harness(app, rt)
            stack.push_async_callback(harness.aclose)
            results = [await harness.run(s) for s in scenarios]
            return results, chosen.model
