"""Finds durable facts, interests and preferences in what a user says, so they
are kept as memories without the model having to call ``remember``.

Precision first: a missed fact costs little, a wrong "fact" about someone is
worse. A sentence is cut into clauses (``My name is Ann and I love rye bread``
is two), each clause yields at most one fact whose value is the words that were
said — never the rest of the sentence. Questions, hedges (``maybe``, ``I
think``), negated statements and other people's facts (``my friend is allergic
to nuts``) are not the user's facts and are skipped. Keys are stable per kind
of fact (``name``, ``home_location``, ``allergy`` …) so a correction ("actually,
my name is Bob") lands on the same key and replaces the old value.
Measured on ``voxa/eval/data/memory_extraction.jsonl`` (tests/unit/test_extract_set.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Extracted:
    category: str
    key: str
    value: str


# Words that start a new clause after "and", "but", a comma …
_SUBJECT = (r"(?:i|i'm|im|i've|i'd|i'll|my|me|we|we're|you|you're|he|she|they|it|it's|that|"
            r"this|there|please|also|actually|oh|btw)")
_CLAUSE_SPLIT = re.compile(
    r"(?:\s*[,;:]\s*|\s+-+\s+|\s+—\s*|"
    r"\s+(?:and|but|because|so|though|although|while|whereas|since|plus)\s+)"
    rf"(?={_SUBJECT}\b)", re.I)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_QUESTION_START = re.compile(
    r"^\s*(?:what|who|whom|whose|where|when|why|how|which|do|does|did|can|could|would|should|"
    r"will|shall|is|are|was|were|am|have|has|may|might|isn't|aren't|don't|doesn't)\b", re.I)
_POLITE_PREFIX = re.compile(
    r"^\s*(?:(?:can|could|would|will) you (?:please )?(?:remember|note|keep in mind)|"
    r"please (?:remember|note)|remember|just so you know|fyi|for the record|note)\b"
    r"(?: that)?[,:]?\s*", re.I)
_HEDGE = re.compile(
    r"\b(?:maybe|perhaps|probably|possibly|might|may be|i think|i guess|i suppose|i believe|"
    r"not sure|if|whether|wonder|would|could|should|pretend|imagine|hypothetically|used to)\b",
    re.I)
# Someone else's fact: "my friend is allergic to nuts", "my sister says she lives in Rome".
_OTHERS = re.compile(
    r"\b(?:my|our|his|her|their|a) (?:friends?|wife|husband|partner|mom|mum|mother|dad|father|"
    r"sister|brother|son|daughter|boss|colleague|neighbou?r|kids?|children|roommate|"
    r"girlfriend|boyfriend|customer|guest)\b|\b(?:he|she|they)\b", re.I)
_NEGATION = re.compile(r"\b(?:not|never|no longer|n't|nobody|no one)\b|n't\b", re.I)

# Where one value ends inside a clause.
_VALUE_STOP = re.compile(
    r"\s+(?:and|but|because|so|though|although|while|which|who|when|as well|too|also|"
    r"very much|a lot|so much|lately|these days|right now|nowadays|anymore|at the moment|"
    r"currently|now|with|for \d|since|actually|really|though|last|this|next|ago|yesterday|"
    r"recently|originally|in \d{4})\b.*$|[,;:()\"]+.*$", re.I)
_LIST_SPLIT = re.compile(r"\s*(?:,\s*(?:and|or)?|\band\b|\bor\b|&)\s*", re.I)
_LIST_STOP = re.compile(
    r"\s+(?:but|because|so|though|although|while|which|who|when|as well|too|also|very much|"
    r"a lot|so much|lately|these days|right now|nowadays|at the moment|actually|really|with "
    r"my|more than)\b.*$|,?\s+(?:not|rather than|instead of)\s.*$|[;:()\"]+.*$", re.I)
_LEAD_WORDS = re.compile(r"^(?:the|your|some|all|a|an|to|eating|having)\s+", re.I)
_NOT_A_THING = frozenset(
    "it that this them you him her those these everything anything nothing something "
    "everyone anyone one there here so".split())
_NAME = r"(?P<v>[A-Z][a-zA-Z'\-]+(?: [A-Z][a-zA-Z'\-]+){0,2})(?!'s)\b"
_NOT_NAMES = frozenset(
    "Not So Very Really Just Sorry Here Fine Good Okay Ok Happy Sad Hungry Looking Calling "
    "Allergic From Interested Into Vegan Vegetarian Back New Also Actually Still Trying The A "
    "An Going Glad Sure Done Ready Tired Busy Afraid".split())
_RELATIONS = r"wife|husband|partner|son|daughter|dog|cat|boss|mother|father|mom|dad|sister|brother"


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    category: str
    key: str  # may contain {k} (a group of the pattern) or {slug} (of the value)
    kind: str = "one"  # "one" value | "list" of values | "name"


def _r(pattern: str, category: str, key: str, kind: str = "one", flags: int = re.I) -> _Rule:
    return _Rule(re.compile(pattern, flags), category, key, kind)


_TAIL = r"(?P<v>.+)"
_RULES: list[_Rule] = [
    _r(r"(?i:\bmy name(?:'s| is)) " + _NAME, "PERSONAL", "name", "name", flags=0),
    _r(r"(?i:\b(?:call me|i go by)) " + _NAME, "PERSONAL", "preferred_name", "name", flags=0),
    _r(r"(?i:\b(?:i'm|im|i am|this is)) " + _NAME + r"(?=\s*$|\s+(?:here|speaking|by the way)\b)",
       "PERSONAL", "name", "name", flags=0),
    _r(rf"\bmy (?:favou?rite) (?P<k>[a-z]+(?: [a-z]+)?) (?:is|are) {_TAIL}",
       "PREFERENCE", "favorite_{k}"),
    _r(rf"\bmy birthday is (?:on )?{_TAIL}", "PERSONAL", "birthday"),
    _r(rf"(?i:\bmy (?P<k>{_RELATIONS})(?:'s name is| is called| is named|'s called)) " + _NAME,
       "PERSONAL", "{k}_name", "name", flags=0),
    _r(rf"\bi (?:live|stay|reside) in {_TAIL}", "FACT", "home_location"),
    _r(rf"\bi(?:'ve| have)? (?:just |recently )?moved to {_TAIL}", "FACT", "home_location"),
    _r(rf"\bi(?:'m| am) (?:originally )?from {_TAIL}", "FACT", "hometown"),
    _r(rf"\bi work (?:at|for) {_TAIL}", "FACT", "employer"),
    _r(r"\bi(?: work as|'m| am) an? (?P<v>(?:teacher|nurse|doctor|developer|engineer|"
       r"programmer|designer|student|lawyer|chef|baker|accountant|writer|artist|farmer|"
       r"driver|manager|musician|pilot|plumber|electrician|pharmacist|dentist|"
       r"software engineer|web developer|data scientist|photographer|carpenter|mechanic))\b",
       "FACT", "occupation"),
    _r(rf"\bi(?:'m| am) (?:severely |very |also )?allergic to {_TAIL}", "FACT", "allergy",
       "list"),
    _r(r"\bi(?:'m| am| eat| follow a| keep) (?P<v>vegetarian|vegan|pescatarian|gluten[- ]free|"
       r"lactose[- ]intolerant|kosher|halal)\b", "PREFERENCE", "diet"),
    _r(r"\bi (?:can't|cannot|don't|do not) (?:eat|have) (?P<v>.+)", "FACT", "cannot_eat",
       "list"),
    _r(r"\bi (?:don't|do not|really don't) (?:like|enjoy|care for) (?P<v>.+)",
       "PREFERENCE", "dislikes_{slug}", "list"),
    _r(r"\bi (?:really |absolutely |just )?(?:hate|dislike|can't stand|detest) (?P<v>.+)",
       "PREFERENCE", "dislikes_{slug}", "list"),
    _r(r"\bi (?:really |absolutely |just |also |totally )?(?:love|like|enjoy|adore) (?P<v>.+)",
       "INTEREST", "likes_{slug}", "list"),
    _r(r"\bi(?:'m| am) (?:really |very |also )?(?:interested in|into|"
       r"a (?:big |huge )?fan of|passionate about) (?P<v>.+)", "INTEREST", "likes_{slug}", "list"),
    _r(r"\bi (?:prefer|would rather) (?P<v>.+)", "PREFERENCE", "prefers_{slug}"),
    _r(rf"\bmy goal is (?:to )?{_TAIL}", "GOAL", "goal"),
]
# Rules whose own words carry the negation (the clause is not "negated" by it).
_NEGATIVE_RULES = frozenset({"dislikes_{slug}", "cannot_eat"})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "thing"


def _clean(value: str) -> str:
    value = value.strip().strip("'\"").strip()
    value = re.sub(r"\s+", " ", value)
    while True:
        stripped = _LEAD_WORDS.sub("", value)
        if stripped == value:
            break
        value = stripped
    return value.rstrip(".!?,;: ").strip()


def _acceptable(value: str) -> bool:
    if not value or len(value) < 2 or len(value) > 60:
        return False
    first = value.split()[0].lower()
    return first not in _NOT_A_THING and not _NEGATION.search(value)


def _values(rule: _Rule, raw: str) -> list[str]:
    if rule.kind == "name":
        return [raw] if raw.split()[0] not in _NOT_NAMES else []
    if rule.kind == "list":
        raw = _LIST_STOP.sub("", raw)
        items = [_clean(_VALUE_STOP.sub("", part)) for part in _LIST_SPLIT.split(raw)]
        items = [i for i in items if i]
        if rule.key == "allergy" or rule.key == "cannot_eat":
            joined = " and ".join(items) if len(items) < 3 else ", ".join(items)
            return [joined] if items and all(_acceptable(i) for i in items) else []
        return items
    return [_clean(_VALUE_STOP.sub("", raw))]


# "my name isn't Ann, it's Bob" is a correction to "my name is Bob".
_CORRECTION = re.compile(
    r"\bmy (name|favou?rite [a-z]+) (?:is not|isn't|is n't) [^,;.]+?[,;]?\s+"
    r"(?:it's|it is|but it's|but|i'm|i am)\s+", re.I)


def _clauses(text: str) -> list[str]:
    out: list[str] = []
    for sentence in _SENTENCE.findall(text[:4000]):
        s = _POLITE_PREFIX.sub("", sentence.strip())
        s = _CORRECTION.sub(lambda m: f"my {m[1]} is ", s)
        if not s or s.endswith("?") or _QUESTION_START.match(s):
            continue
        for clause in _CLAUSE_SPLIT.split(s.rstrip(".!")):
            clause = _POLITE_PREFIX.sub("", clause.strip())
            clause = re.sub(r"^(?:actually|oh|btw|and|also|well|ok|okay|so|no|sorry|oops|"
                            r"correction|wait)\b[,:]?\s*", "", clause, flags=re.I)
            if clause and not _QUESTION_START.match(clause):
                out.append(clause)
    return out


def _from_clause(clause: str) -> list[Extracted]:
    for rule in _RULES:
        m = rule.pattern.search(clause)
        if not m:
            continue
        before = clause[:m.start()]
        lead = before + " " + m.group(0)[:m.start("v") - m.start()]
        if _OTHERS.search(before) or _HEDGE.search(lead):
            return []
        if rule.key not in _NEGATIVE_RULES and _NEGATION.search(lead):
            return []
        k = _slug(m.groupdict().get("k") or "")
        found = []
        for value in _values(rule, m["v"]):
            if rule.kind != "name" and not _acceptable(value):
                continue
            found.append(Extracted(rule.category, rule.key.format(k=k, slug=_slug(value)),
                                   value))
        return found  # one rule per clause: the most specific wins
    return []


def extract_memories(text: str, *, limit: int = 5) -> list[Extracted]:
    out: dict[tuple[str, str], Extracted] = {}
    for clause in _clauses(text):
        for fact in _from_clause(clause):
            # A later statement of the same key in one message is the correction.
            out.pop((fact.category, fact.key), None)
            out[(fact.category, fact.key)] = fact
    return list(out.values())[:limit]
