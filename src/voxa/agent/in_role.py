"""Keeping the assistant in its role: a small model sometimes writes the
user's next message instead of its own reply ("How about this? Hi there, I'm
Ann and I love rye bread."). Such sentences are removed from a reply before it
is stored; a reply with nothing left becomes a short neutral answer."""

from __future__ import annotations

import re

_SENTENCES = re.compile(r"[^.!?\n]+[.!?]*")
_GREETING = re.compile(r"^(?:(?:hi|hello|hey)(?: there)? )+")
_FIRST_PERSON = re.compile(r"^(?:(?:hi|hello|hey)(?: there)?[,!]?\s*)?(?:i|i'm|my)\b", re.I)


def _clauses(text: str) -> list[str]:
    return [c.strip() for c in re.split(r"[.!?\n]", text) if len(c.strip()) > 12]


def speaks_as_user(sentence: str, names: list[str], user_text: str) -> bool:
    """Whether ``sentence`` is the user talking: introducing itself by one of the
    user's names, or repeating a first-person statement the user just made."""
    low = sentence.lower()
    for name in names:
        if name and re.search(rf"\b(?:i'm|i am|my name is|this is) {re.escape(name.lower())}\b",
                              low):
            return True
    said = _GREETING.sub("", " ".join(re.findall(r"[a-z0-9']+", low)))
    for clause in _clauses(user_text):
        words = _GREETING.sub("", " ".join(re.findall(r"[a-z0-9']+", clause.lower())))
        # The user's own first-person words as the sentence itself (not quoted
        # inside one, as in a ticket subject the assistant reads back).
        if _FIRST_PERSON.match(words) and len(words) > 12 and said.startswith(words):
            return True
    return False


def keep_in_role(reply: str, *, names: list[str], user_text: str, fallback: str) -> str:
    sentences = [s for s in _SENTENCES.findall(reply) if s.strip()]
    kept = [s for s in sentences if not speaks_as_user(s, names, user_text)]
    if len(kept) == len(sentences):
        return reply
    # "How about this?" and the like only introduced the removed sentence.
    kept = [s for s in kept if not re.fullmatch(
        r"\s*(?:how about this|here(?:'s| is) (?:a|an|my) \w+|try this|for example)\W*", s, re.I)]
    text = " ".join(s.strip() for s in kept).strip()
    return text or fallback
