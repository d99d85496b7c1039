"""Finds durable facts, interests and preferences in what a user says, so they
are kept as memories without the model having to call ``remember``.

Deliberately conservative pattern matching: a missed fact costs little, a wrong
"fact" about someone is worse. Questions are never mined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Extracted:
    category: str
    key: str
    value: str


_V = r"(?P<v>[^.,;!?\n]{1,80})"
_PATTERNS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(rf"\bmy (?:favou?rite) (?P<k>[a-z]+(?: [a-z]+)?) is {_V}", re.I),
     "PREFERENCE", "favorite_{k}"),
    (re.compile(rf"\bmy name is {_V}", re.I), "PERSONAL", "name"),
    (re.compile(r"\bcall me (?P<v>[A-Za-z][\w' -]{0,40})", re.I), "PERSONAL", "preferred_name"),
    (re.compile(rf"\bmy birthday is {_V}", re.I), "PERSONAL", "birthday"),
    (re.compile(rf"\bmy (?P<k>wife|husband|partner|son|daughter|dog|cat|boss)(?:'s name)? is {_V}",
                re.I), "PERSONAL", "{k}"),
    (re.compile(rf"\bi live in {_V}", re.I), "FACT", "home_location"),
    (re.compile(rf"\bi(?:'m| am) from {_V}", re.I), "FACT", "hometown"),
    (re.compile(rf"\bi work (?:at|for) {_V}", re.I), "FACT", "employer"),
    (re.compile(rf"\bi work as an? {_V}", re.I), "FACT", "occupation"),
    (re.compile(rf"\bi(?:'m| am) allergic to {_V}", re.I), "FACT", "allergy"),
    (re.compile(r"\bi(?:'m| am) (?P<v>vegetarian|vegan|pescatarian|gluten[- ]free)\b", re.I),
     "PREFERENCE", "diet"),
    (re.compile(rf"\bi (?:really )?(?:love|like|enjoy) {_V}", re.I), "INTEREST", "likes_{slug}"),
    (re.compile(rf"\bi(?:'m| am) (?:interested in|into) {_V}", re.I), "INTEREST",
     "interest_{slug}"),
    (re.compile(rf"\bi (?:don't|do not) like {_V}", re.I), "PREFERENCE", "dislikes_{slug}"),
    (re.compile(rf"\bi (?:hate|dislike) {_V}", re.I), "PREFERENCE", "dislikes_{slug}"),
    (re.compile(rf"\bi (?:prefer|would rather) {_V}", re.I), "PREFERENCE", "prefers_{slug}"),
    (re.compile(rf"\bmy goal is (?:to )?{_V}", re.I), "GOAL", "goal"),
]
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "thing"


def extract_memories(text: str, *, limit: int = 5) -> list[Extracted]:
    out: dict[tuple[str, str], Extracted] = {}
    for sentence in _SENTENCE.findall(text[:4000]):
        if sentence.strip().endswith("?"):
            continue
        for pattern, category, key_tmpl in _PATTERNS:
            m = pattern.search(sentence)
            if not m:
                continue
            value = m["v"].strip().strip("'\"")
            if not value or len(value) < 2:
                continue
            k = m.groupdict().get("k") or ""
            key = key_tmpl.format(k=_slug(k), slug=_slug(value))
            out.setdefault((category, key), Extracted(category, key, value))
            break  # one fact per sentence: the most specific pattern wins
    return list(out.values())[:limit]
