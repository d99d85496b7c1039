"""Conversation scenarios for ``voxa eval``: what a user says to one role of the
assistant, with the business it talks for, and what must (and must not)
happen. Files are JSON (``data/scenarios/*.json`` in this package, or a directory
given on the command line)::

    {"businesses": {"bakery": {"name": "...", "instructions": "...", "knowledge": "..."}},
     "scenarios": [{"id": "...", "role": "customer", "kind": "ticket", "business": "bakery",
                    "user": "Ann", "seed": {...}, "turns": ["..."], "expect": [{...}]}]}

Expectations (all must hold for the scenario to count as done):
``tool`` (called, with ``args``: each argument containing one of the words),
``no_tool``, ``ticket_opened`` (``subject_any``, ``priority``), ``no_ticket_opened``,
``ticket_status`` (a seeded ticket ends in a status), ``memory`` (key = exact value),
``no_memory`` (key absent), ``reply_any`` (the last reply has one of the words),
``reply_none`` (no reply has any of them), ``refuses`` (the last reply declines),
``in_role`` (no reply speaks as the user).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

ROLES = ("owner", "customer", "general")
EXPECTATIONS = frozenset({
    "tool", "no_tool", "ticket_opened", "no_ticket_opened", "ticket_status", "memory",
    "no_memory", "reply_any", "reply_none", "refuses", "in_role",
})


class ScenarioError(ValueError):
    """A scenario file that does not describe a runnable scenario."""


@dataclass(frozen=True, slots=True)
class BusinessSetup:
    key: str
    name: str
    instructions: str = ""
    knowledge: str = ""


@dataclass(frozen=True, slots=True)
class SeedTicket:
    """A ticket that exists before the conversation: the user's own (``mine``),
    another customer's of the same business (``other_customer``) or one of
    another business (``other_business``)."""

    subject: str
    body: str = ""
    owner: str = "other_customer"
    status: str = "open"
    priority: str = "normal"


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    role: str
    kind: str
    turns: tuple[str, ...]
    expect: tuple[dict[str, Any], ...]
    business: BusinessSetup | None
    user: str = "Sam"
    adversarial: bool = False
    tickets: tuple[SeedTicket, ...] = ()
    memories: tuple[tuple[str, str, str], ...] = ()
    source: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


def _business(key: str, raw: Any) -> BusinessSetup:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ScenarioError(f"business {key!r} needs a name")
    return BusinessSetup(key, raw["name"], str(raw.get("instructions", "")),
                         str(raw.get("knowledge", "")))


def _scenario(raw: dict[str, Any], businesses: dict[str, BusinessSetup], source: str
              ) -> Scenario:
    sid = str(raw.get("id") or "")
    role = raw.get("role")
    if not sid or role not in ROLES:
        raise ScenarioError(f"{source}: scenario {sid!r} needs an id and a role in {ROLES}")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
        raise ScenarioError(f"{source}: {sid} needs turns (a list of strings)")
    expect = raw.get("expect")
    if not isinstance(expect, list) or not expect:
        raise ScenarioError(f"{source}: {sid} needs at least one expectation")
    for e in expect:
        if not isinstance(e, dict) or len(e) != 1 or next(iter(e)) not in EXPECTATIONS:
            raise ScenarioError(f"{source}: {sid}: unknown expectation {e!r}")
    business = None
    if role != "general":
        key = raw.get("business")
        if key not in businesses:
            raise ScenarioError(f"{source}: {sid} names an unknown business {key!r}")
        business = businesses[key]
    seed = raw.get("seed") or {}
    tickets = tuple(SeedTicket(**t) for t in seed.get("tickets", []))
    memories = tuple((m[0], m[1], m[2]) for m in seed.get("memories", []))
    return Scenario(
        id=sid, role=role, kind=str(raw.get("kind") or "other"), turns=tuple(turns),
        expect=tuple(expect), business=business, user=str(raw.get("user") or "Sam"),
        adversarial=bool(raw.get("adversarial", False)), tickets=tickets, memories=memories,
        source=source, tags=tuple(raw.get("tags", [])),
    )


def parse(text: str, source: str) -> list[Scenario]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ScenarioError(f"{source}: not JSON: {exc}") from exc
    businesses = {k: _business(k, v) for k, v in (doc.get("businesses") or {}).items()}
    return [_scenario(s, businesses, source) for s in doc.get("scenarios", [])]


def load(directory: Path | None = None) -> list[Scenario]:
    """Every scenario of the packaged files, or of ``directory``'s ``*.json``."""
    out: list[Scenario] = []
    if directory is not None:
        for path in sorted(directory.glob("*.json")):
            out += parse(path.read_text(encoding="utf-8"), path.name)
    else:
        folder = resources.files("voxa.eval").joinpath("data/scenarios")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".json"):
                out += parse(entry.read_text(encoding="utf-8"), entry.name)
    seen: set[str] = set()
    for s in out:
        if s.id in seen:
            raise ScenarioError(f"scenario id {s.id!r} is used twice")
        seen.add(s.id)
    return out
