"""Tools are declared once: a module in this package defines an async handler
decorated with :func:`tool`, naming the roles that may use it and one line of
guidance for the prompt. The role's tool list and the prompt's description of
the tools are both derived from those declarations (:func:`catalog`).

A handler's first parameter is the :class:`ToolEnv` of the session it serves;
its other parameters (with the docstring's ``Args:``) are what the model sees.
Identity, business and user come from that env, never from the model's
arguments: whatever a model invents, a tool reaches only its own session's
tenant and user.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import pkgutil
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from livekit.agents.llm import FunctionTool, ToolError, function_tool
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.context import SessionContext, maybe_current_session
from voxa.domain import Role, tenant_key
from voxa.errors import InvalidInput
from voxa.limits.admission import business_overrides
from voxa.runtime import Runtime
from voxa.storage.scope import Scope

Handler = Callable[..., Awaitable[str]]


@dataclass(frozen=True, slots=True)
class ToolEnv:
    """What a tool knows about the session it serves: verified, never from the model."""

    rt: Runtime
    ctx: SessionContext

    def guard(self) -> None:
        """Defence in depth: a tool runs only in the task context of its own session."""
        current = maybe_current_session()
        if current is not None and current.session_id != self.ctx.session_id:
            raise ToolError("this tool belongs to another conversation")

    @property
    def mine(self) -> Scope:
        """The session user's own rows."""
        return Scope.user(self.ctx.user_id, self.ctx.business_id)

    @property
    def business(self) -> Scope:
        """The whole business (tools of the owner role only)."""
        if self.ctx.business_id is None:
            raise ToolError("this conversation belongs to no business")
        return Scope.business(self.ctx.business_id)

    async def run(self, op: Callable[[AsyncSession], Awaitable[str]]) -> str:
        """``op`` in one committed transaction; a domain refusal becomes the
        model's tool error (the model can say what was wrong)."""
        self.guard()
        try:
            async with self.rt.db() as db:
                result = await op(db)
                await db.commit()
                return result
        except InvalidInput as exc:
            raise ToolError(exc.message) from exc

    async def over_limit(self, name: str, what: str) -> str | None:
        """A refusal for the model when the user's quota ``name`` is used up
        (nothing is written), else None."""
        self.guard()
        async with self.rt.db() as db:
            overrides = await business_overrides(db, self.ctx.business_id)
        wait = await self.rt.limiter.try_hit(name, tenant_key(self.ctx.business_id),
                                             self.ctx.user_id, overrides=overrides)
        if wait is None:
            return None
        return (f"Refused: this user has reached the limit on {what}; nothing was saved. "
                f"Tell the user it can be tried again in about {math.ceil(wait)} seconds.")


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One declared tool: its name, the roles that may use it, the prompt's
    guidance for it, and its handler."""

    name: str
    roles: frozenset[Role]
    guidance: str
    handler: Handler

    def bind(self, env: ToolEnv) -> FunctionTool[..., Any]:
        """The tool the model calls, bound to one session's env."""
        fn = self.handler

        async def bound(*args: Any, **kwargs: Any) -> str:
            return await fn(env, *args, **kwargs)

        functools.update_wrapper(bound, fn)
        # The model sees the parameters after ``env``; type hints are resolved
        # in the handler's module (``__wrapped__``).
        sig = inspect.signature(fn)
        bound.__signature__ = sig.replace(  # type: ignore[attr-defined]
            parameters=list(sig.parameters.values())[1:])
        bound.__annotations__ = {k: v for k, v in fn.__annotations__.items()
                                 if k != next(iter(sig.parameters))}
        return function_tool(bound, name=self.name)


def tool(*, roles: Iterable[Role], guidance: str) -> Callable[[Handler], ToolSpec]:
    """Declare an async handler ``(env, ...) -> str`` as a tool of ``roles``."""
    def declare(fn: Handler) -> ToolSpec:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"tool {fn.__name__} must be async")
        return ToolSpec(name=fn.__name__, roles=frozenset(roles), guidance=guidance.strip(),
                        handler=fn)
    return declare


@functools.cache
def catalog() -> tuple[ToolSpec, ...]:
    """Every tool declared in this package's modules, by name (discovered, so
    a new tool is its own module and nothing else)."""
    package = __name__.rpartition(".")[0]
    found: dict[str, ToolSpec] = {}
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        module = importlib.import_module(f"{package}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, ToolSpec):
                if found.get(value.name, value) is not value:
                    raise RuntimeError(f"two tools are named {value.name!r}")
                found[value.name] = value
    return tuple(sorted(found.values(), key=lambda s: s.name))


def tool_names(role: Role | str | None = None) -> list[str]:
    """Names of every tool, or of the tools ``role`` may use."""
    return [s.name for s in catalog() if role is None or Role(role) in s.roles]


def tools_for(role: Role | str, enabled: Collection[str] = ()) -> list[ToolSpec]:
    """The tools of ``role``; when the agent enables a subset (``agents.tools``
    non-empty), only those."""
    specs = [s for s in catalog() if Role(role) in s.roles]
    return [s for s in specs if s.name in enabled] if enabled else specs
