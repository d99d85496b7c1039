"""`voxa bench <name>`."""

from __future__ import annotations

import asyncio
import importlib

NAMES = ("sessions", "turns", "isolation", "memory", "history", "voice")


def run(name: str, *, backend: str, quick: bool, llm: str = "scripted") -> int:
    module = importlib.import_module(f"voxa.bench.{name}")
    if name == "voice":
        asyncio.run(module.run(backend, quick, llm=llm))
    else:
        asyncio.run(module.run(backend, quick))
    return 0
