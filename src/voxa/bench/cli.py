"""`voxa bench <name>`."""

from __future__ import annotations

import asyncio
import importlib

from voxa.storage.scope import Scope
from voxa.storage.tenancy import db_scope

NAMES = ("sessions", "turns", "isolation", "memory", "history", "voice", "search")


def run(name: str, *, backend: str, quick: bool, llm: str = "scripted") -> int:
    module = importlib.import_module(f"voxa.bench.{name}")
    # the bench seeds and inspects every tenant's rows directly, as the operator;
    # what it drives through HTTP binds each caller's tenant as usual
    with db_scope(Scope.system()):
        found: object = None
        if name == "voice":
            asyncio.run(module.run(backend, quick, llm=llm))
        else:
            found = asyncio.run(module.run(backend, quick))
    # a bench that checks something (isolation) returns what it found wrong
    return 1 if isinstance(found, int) and found else 0
