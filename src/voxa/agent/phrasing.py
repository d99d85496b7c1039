"""The model phrases what routing found; these helpers keep it honest. The
tool results (or the business's facts) are put before the model as a short
note, and a reply that mentions none of the facts it was given (a small model
drifting off) is replaced by the facts themselves, plainly worded."""

from __future__ import annotations

import json
import re

from voxa.agent.grounding import stem as _stem

_DAYS = ("monday tuesday wednesday thursday friday saturday sunday weekdays weekend daily "
         "open closed pending high urgent normal low").split()


def result_note(results: list[tuple[str, str]]) -> str:
    """A system line with what the tools returned, for the model to pass on."""
    lines = [f"- {name}: {output}" for name, output in results]
    return ("You already looked this up for the user (their request is handled; do not call "
            "tools). Results:\n" + "\n".join(lines) + "\nTell the user the result in one or two "
            "short sentences, as the assistant.")


_WORD = re.compile(r"[A-Za-z0-9][\w'£$:-]*")
_STOP = frozenset("the a an of to and or with is are was you your i my me we our it this that "
                  "for in on at be by as".split())


def _words(text: str) -> set[str]:
    return {w.lower().strip(":") for w in _WORD.findall(text)}


def key_tokens(text: str) -> set[str]:
    """Words a faithful reply would repeat: numbers, ids, names, days, statuses."""
    out = set()
    for i, word in enumerate(_WORD.findall(text)):
        low = word.lower().strip(":")
        if any(c.isdigit() for c in word) or low in _DAYS or (i > 0 and word[0].isupper()):
            out.add(low)
    return out


_TICKET_ID = re.compile(r"^[0-9a-f]{8}$")
_LISTED_STATE = re.compile(r"^[0-9a-f]{8} \[[a-z/]+\] ")
_STATE = re.compile(r"^[0-9a-f]{8} \[([a-z]+)")


def is_grounded(reply: str, facts: list[str], question: str, *, need: int = 1) -> bool:
    """Whether ``reply`` passes on at least ``need`` words of ``facts`` that the
    question did not already say (an echo of the question is not an answer)."""
    asked = _words(question)
    asked |= {_stem(w) for w in asked}
    wanted = {w for w in set().union(*(key_tokens(f) for f in facts))
              if w not in asked and _stem(w) not in asked
              and not _TICKET_ID.match(w)}  # models seldom repeat ids; not required
    if not wanted:
        wanted = set().union(*(_words(f) for f in facts)) - asked - _STOP
    return not wanted or len(wanted & _words(reply)) >= min(need, len(wanted))


def _passes_on(reply: str, name: str, output: str, question: str) -> bool:
    if name in ("ticket_status", "list_tickets"):
        # Every listed ticket must be recognisable in the reply.
        rows = [r for r in output.splitlines() if r.strip()]
        return all(_names_row(reply, _LISTED_STATE.sub("", r), question)
                   and _tells_status(reply, r, question) for r in rows)
    return is_grounded(reply, [output], question)


def _tells_status(reply: str, row: str, question: str) -> bool:
    """A ticket's status is in the reply, unless the question already named it."""
    state = _STATE.match(row)
    if state is None or state[1] in _words(question):
        return True
    return state[1] in _words(reply) or (state[1] == "closed" and "resolved" in _words(reply))


def _names_row(reply: str, row: str, question: str) -> bool:
    """Half the words of a ticket's subject (beyond the question's) are in the reply."""
    asked = {_stem(w) for w in _words(question)}
    words = {_stem(w) for w in _words(row) - _STOP} - asked
    said = {_stem(w) for w in _words(reply)}
    return not words or len(words & said) >= (len(words) + 1) // 2


def plain_result(name: str, output: str) -> str:
    """A tool's result worded for the user without a model."""
    text = output.strip()
    if name in ("ticket_status", "list_tickets"):
        rows = [r for r in text.splitlines() if r.strip()]
        if len(rows) <= 1:
            return text if rows else "There are no tickets."
        return "Here are the tickets: " + "; ".join(rows) + "."
    if name == "business_stats":
        try:
            stats = json.loads(text)
        except ValueError:
            return text
        if isinstance(stats, dict):
            parts = [f"{k.replace('_', ' ')}: {v}" for k, v in stats.items()
                     if not isinstance(v, (dict, list))]
            return "Here are the numbers: " + ", ".join(parts) + "."
    if name == "recall":
        if text.startswith("Nothing"):
            return "I don't remember anything about that yet."
        return "Here is what I remember: " + "; ".join(text.splitlines()) + "."
    return text


def grounded(reply: str, *, results: list[tuple[str, str]], facts: list[str],
             question: str) -> str:
    """``reply`` if it passes on what it was given, else the plain facts."""
    if results:
        if all(_passes_on(reply, name, out, question) for name, out in results):
            return reply
        return " ".join(plain_result(name, out) for name, out in results)
    if facts and not is_grounded(reply, facts[:1], question):
        return facts[0]
    return reply
