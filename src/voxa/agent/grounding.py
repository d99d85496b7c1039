"""Grounding a reply in the business's own texts: the lines of the role's
instructions (where a business writes its hours, prices and policies) that
share the most words with the user's question. A small model quotes a fact
placed right before it far more reliably than one buried in a long prompt.

Lines are the tenant's text: they go into the prompt as data (quoted, after the
instructions), never as a template, and only lines of the session's own
business are ever looked at.
"""

from __future__ import annotations

import re

_STOP = frozenset(
    "a an and are as at be by can could do does for from have how i in is it me my of on or "
    "our please the to we what when where which who why will with would you your this that "
    "there any much many get tell about".split())
# Question words that point at a kind of fact, and words such facts contain.
_HINTS = {
    "open": "hours open closed am pm monday tuesday wednesday thursday friday saturday sunday "
            "weekdays daily",
    "when": "hours open am pm monday tuesday wednesday thursday friday saturday sunday days",
    "hours": "open am pm",
    "where": "address street lane road located",
    "address": "street lane road located",
    "cost": "pounds price costs",
    "much": "pounds price costs",
    "price": "pounds costs",
    "charge": "pounds costs price",
    "phone": "call number bookings",
    "number": "phone call",
    "days": "monday tuesday wednesday thursday friday saturday sunday",
    "notice": "hours need",
    "long": "days hours warranty",
    "emergency": "same day call",
    "today": "same day",
}


# Lines that talk to the model instead of about the business (a pasted
# document carrying a prompt injection) are never quoted back.
_COMMAND_LIKE = re.compile(r"\b(?:ignore (?:all |any )?(?:previous|prior|above)|instructions|"
                           r"system\s*:|assistant\s*:|password|you are now|admin mode)\b", re.I)


def stem(word: str) -> str:
    """A crude English stem (plural and verb endings), enough to match words."""
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _terms(text: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP}


def relevant_lines(question: str, instructions: str, *, limit: int = 2) -> list[str]:
    """The instruction lines that best answer ``question`` (best first)."""
    asked = _terms(question)
    for word in list(asked):
        asked |= _terms(_HINTS.get(word, ""))
    scored: list[tuple[int, int, str]] = []
    for i, raw in enumerate(instructions.splitlines()):
        line = raw.strip()
        if not line or len(line) > 400 or line.endswith(":") or _COMMAND_LIKE.search(line):
            continue
        overlap = len(asked & _terms(line))
        if overlap:
            scored.append((overlap, -i, line))
    scored.sort(reverse=True)
    if not scored:
        return []
    best = scored[0][0]
    return [line for score, _, line in scored[:limit] if score >= max(1, best - 1)]
