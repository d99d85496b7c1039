"""The import rules hold: layers point one way (no package cycles) and only the
voice worker uses livekit-agents' worker APIs. The layers are the
``[tool.importlinter]`` contracts in pyproject.toml (docs/architecture.md)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "voxa"

# livekit-agents names that run or join a worker job (rooms, dispatch, IPC).
WORKER_APIS = frozenset({
    "AgentServer", "AgentSession", "JobContext", "JobProcess", "JobRequest", "JobExecutorType",
    "WorkerOptions",
    "WorkerType", "AutoSubscribe", "cli", "ipc", "worker", "job", "voice",
})
# Outside voice/, livekit-agents is used for its LLM interfaces only: the agent
# is a ``livekit.agents.Agent`` for text and voice alike, the API and the eval
# build its LLM, tracing hands livekit-agents the tracer, the bench measures
# an in-process AgentSession against the platform.
MAY_IMPORT_LIVEKIT_AGENTS = ("voice.", "agent.", "api.app", "eval.", "tracing", "bench.")


def _module(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts)


def _livekit_agents_imports(path: Path) -> list[tuple[str, set[str]]]:
    """(module, names) of every ``livekit.agents`` import in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("livekit.agents"):
            found.append((node.module or "", {a.name for a in node.names}))
        elif isinstance(node, ast.Import):
            found += [(a.name, set()) for a in node.names if a.name.startswith("livekit.agents")]
    return found


def test_layers_point_one_way() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_only_voice_uses_livekit_worker_apis() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module(path)
        for imported, names in _livekit_agents_imports(path):
            if module.startswith("voice."):
                continue
            sub = imported.removeprefix("livekit.agents").lstrip(".").split(".")[0]
            if ({sub} | names) & WORKER_APIS or not module.startswith(MAY_IMPORT_LIVEKIT_AGENTS):
                offenders.append(f"{module}: {imported} {sorted(names)}")
    # The bench's naive baseline starts a bare AgentSession (it measures that way).
    assert offenders == ["bench.turns: livekit.agents ['Agent', 'AgentSession']"]


def test_the_checks_see_the_source() -> None:
    """Guard against a vacuous pass: the scan finds the worker's own imports."""
    voice = [i for p in (SRC / "voice").rglob("*.py") for i in _livekit_agents_imports(p)]
    assert any("AgentServer" in names for _, names in voice)
