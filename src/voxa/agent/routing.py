"""Routing before generation: decide from the user's own words, without a
model, whether this turn needs a tool (and with which arguments) or must be
declined. A small local model is weak at choosing tools and at refusing; here
the decision is deterministic and grounded in what the user said, and the model
only phrases the answer. Nothing here widens what a tool may reach: tools stay
bound to the session's tenant and user (``tools.py``).

A turn that matches nothing is left to the model, tools included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_I = re.I


@dataclass(frozen=True, slots=True)
class Call:
    tool: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Decision:
    """Tools to run first, or a refusal that replaces the model's reply."""

    calls: tuple[Call, ...] = ()
    refusal: str | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.calls and self.refusal is None


NOTHING = Decision()

# -- refusals (every role) ----------------------------------------------------
_SECRETS = re.compile(r"\b(?:passwords?|passcode|api key|secret key|credit card|card number|"
                      r"admin (?:mode|access)|staff discount code)\b", _I)
_OTHER_PEOPLE = re.compile(
    r"\b(?:other|another|previous|last|the other|someone else'?s?|every(?:one|body)'?s?|all "
    r"(?:the )?(?:other )?)\s*(?:customers?|users?|people|clients?|callers?)\b|"
    r"\bthe customer who\b|\bwhat (?:have|did) other\b|\bother users\b|\beveryone'?s tickets\b",
    _I)
_OTHER_BUSINESS = re.compile(
    r"\b(?:competitors?|rivals?|another (?:business|shop|company|store)|other (?:businesses|"
    r"business|shops?|compan(?:y|ies)|stores?))\b", _I)
_INJECTION = re.compile(r"\b(?:ignore (?:all |your |the )?(?:previous |prior )?(?:instructions|"
                        r"rules)|you are now|developer mode|jailbreak)\b", _I)
_CLOSE_ALL = re.compile(r"\b(?:close|delete|remove|cancel) (?:all|every)\b.*\btickets?\b", _I)
_OWNER_CLAIM = re.compile(r"\b(?:i am|i'm) (?:actually )?(?:the )?(?:owner|admin|manager)\b", _I)

# -- customer -----------------------------------------------------------------
_TICKET_ASK = re.compile(
    r"\b(?:open|raise|create|file|log|submit|start|make)\b.{0,20}\b(?:ticket|complaint|case|"
    r"report)\b|\b(?:report (?:it|this|that)|call me back|have someone (?:call|contact)|"
    r"speak to (?:a human|someone|a person|staff|the manager))\b", _I)
# Words that ask for staff only when the user asks for them, not in a question
# about the policy ("what is your refund policy?").
_TICKET_SOFT = re.compile(r"\b(?:refund|complain|complaint|sort (?:this|it) out|compensation)\b",
                          _I)
_WANTS = re.compile(r"\b(?:i want|i'd like|i would like|i need|i demand|please|give me|"
                    r"can i get|can you)\b", _I)
_PROBLEM = re.compile(
    r"\b(?:broken|damaged|crushed|wrong|missing|never arrived|didn'?t arrive|not arrived|"
    r"has not been|hasn'?t been|late|charged twice|overcharged|double charged|faulty|stale|"
    r"mouldy|moldy|not working|doesn'?t work|still (?:squeak|broken|leak)\w*|squeak\w*|cold|"
    r"spoiled|undercooked|burnt|rude|not confirmed)\b", _I)
_STATUS_ASK = re.compile(
    r"\b(?:status|update|progress)\b.{0,30}\btickets?\b|\b(?:my|any|the) (?:support )?tickets?\b"
    r".{0,30}\b(?:resolved|closed|open|status|fixed|done|been)\b|\b(?:do|have) i (?:have )?"
    r"(?:any )?(?:open )?(?:support )?tickets?\b|\bmy (?:support )?tickets?\b", _I)
_URGENT = re.compile(r"\b(?:urgent|urgently|asap|immediately|emergency|right now|tomorrow|"
                     r"today)\b", _I)
_FILLER = re.compile(
    r"[,.;!]*\s*\b(?:please|can you|could you|would you|i want|i'd like|i would like)\b.*?"
    r"\b(?:open|raise|create|file|log|submit|sort)\b.*$|^(?:urgent|hi|hello|hey)[:!,]?\s*", _I)

# -- owner --------------------------------------------------------------------
_STATS = re.compile(r"\b(?:stats|statistics|how many (?:sessions|conversations|chats|customers)|"
                    r"sessions|busiest|busy|activity|average|summary of activity|numbers)\b", _I)
_TICKET_REF = re.compile(r"\b(?:ticket|#)\s*#?([0-9a-f]{8})\b", _I)
_UPDATE = [
    (re.compile(r"\b(?:reopen|re-open|open (?:it|that|this) again)\b|\bmark\b.*\bas open\b",
                _I), "open"),
    (re.compile(r"\b(?:pending|on hold|waiting)\b", _I), "pending"),
    (re.compile(r"\b(?:close|closed|resolve|resolved|done with|sorted|fixed)\b", _I), "closed"),
]
_LIST = re.compile(r"\btickets?\b", _I)
_STATUS_WORD = re.compile(r"\b(open|pending|closed)\b", _I)

# -- memory lookups (every role) ----------------------------------------------
_RECALL = re.compile(
    r"\b(?:what(?:'s| is| are)? my|where do i|what do i|who am i|what am i|do you (?:remember|"
    r"know)|what do you (?:remember|know) about me|remind me what)\b", _I)
_RECALL_STOP = frozenset(
    "what what's is are my where do i who am you remember know about me remind the a an to "
    "of and please tell can could".split())
# The user's words for a kind of memory, as the keys extraction stores it under.
_RECALL_KEYS = {"allergic": "allergy", "allergies": "allergy", "live": "home location",
                "lives": "home location", "from": "hometown", "love": "likes", "like": "likes",
                "enjoy": "likes", "colour": "color", "work": "employer occupation",
                "job": "occupation employer", "called": "name", "hate": "dislikes"}


def _refusal(role: str, text: str, business: str | None) -> str | None:
    place = business or "this service"
    if _SECRETS.search(text):
        return ("Sorry, I can't share passwords or other secrets. Is there anything else I can "
                "help with?")
    if _INJECTION.search(text):
        return f"Sorry, I can't do that. I'm here to help with {place}; what can I do for you?"
    if role != "owner" and _OTHER_PEOPLE.search(text):
        return ("Sorry, I can't share anything about other customers or users; I can only help "
                "with your own requests.")
    if role == "owner" and (_OTHER_BUSINESS.search(text) or (
            _OTHER_PEOPLE.search(text) and re.search(r"\b(?:address|phone)\b", text, _I))):
        return f"Sorry, I can only see {place}'s own data, not another business's."
    if role == "customer" and (_CLOSE_ALL.search(text) or _OWNER_CLAIM.search(text)):
        return ("Sorry, I can't do that: I can only open tickets for you and tell you the status "
                "of your own tickets.")
    if role == "general" and re.search(r"\btickets?\b.*\bof\b|\bbusiness(?:'s)? data\b", text, _I):
        return "Sorry, I can't share a business's tickets or data."
    return None


def _subject(text: str) -> str:
    first = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if _PROBLEM.search(sentence) or (not first and sentence):
            first = sentence
            if _PROBLEM.search(sentence):
                break
    subject = _FILLER.sub("", first).strip(" ,.;!?") or text.strip()
    return subject[:120]


def _customer(text: str) -> tuple[Call, ...]:
    if _STATUS_ASK.search(text) and not re.search(r"\b(?:open|raise|create|file|log)\s+(?:a|an)\b",
                                                 text, _I):
        return (Call("ticket_status", {}),)
    problem = _PROBLEM.search(text) and re.search(r"\b(?:my|i|we)\b", text, _I)
    if _TICKET_ASK.search(text) or problem or (_TICKET_SOFT.search(text) and _WANTS.search(text)):
        priority = "high" if _URGENT.search(text) else "normal"
        return (Call("create_ticket", {"subject": _subject(text), "body": text.strip()[:2000],
                                       "priority": priority}),)
    return ()


def _owner(text: str) -> tuple[Call, ...]:
    ref = _TICKET_REF.search(text)
    if ref:
        for pattern, status in _UPDATE:
            if pattern.search(text):
                return (Call("update_ticket", {"ticket_id": ref.group(1).lower(),
                                               "status": status}),)
    if _LIST.search(text) and re.search(r"\b(?:close|resolve|reopen|re-open|mark)\b", text, _I):
        for pattern, status in _UPDATE:
            if pattern.search(text):
                # No id given: the ticket whose subject shares the user's words
                # is found among the business's tickets (routed.py).
                return (Call("update_ticket", {"ticket_id": "", "status": status,
                                               "about": text.strip()[:300]}),)
    if _LIST.search(text):
        word = _STATUS_WORD.search(text)
        return (Call("list_tickets", {"status": word.group(1).lower()} if word else {}),)
    if _STATS.search(text):
        return (Call("business_stats", {}),)
    return ()


def _recall(text: str) -> tuple[Call, ...]:
    if not _RECALL.search(text):
        return ()
    words = [w for w in re.findall(r"[a-z]+", text.lower()) if w not in _RECALL_STOP]
    if not words:  # "what do you remember about me": the memory brief already answers
        return ()
    query = " ".join(dict.fromkeys(" ".join(_RECALL_KEYS.get(w, w) for w in words).split()))
    return (Call("recall", {"query": query}),)


def route(role: str, text: str, *, tools: set[str], business: str | None = None) -> Decision:
    """What to do before the model speaks, for one user turn."""
    refusal = _refusal(role, text, business)
    if refusal is not None:
        return Decision(refusal=refusal, reasons=("refuse",))
    calls: tuple[Call, ...] = ()
    if role == "customer":
        calls = _customer(text)
    elif role == "owner":
        calls = _owner(text)
    calls = calls or _recall(text)
    calls = tuple(c for c in calls if c.tool in tools)
    return Decision(calls=calls, reasons=tuple(c.tool for c in calls)) if calls else NOTHING
