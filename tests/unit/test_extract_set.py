"""Memory extraction measured on the labelled set."""

from collections.abc import Callable

import pytest

from voxa.agent.extract import extract_memories
from voxa.eval.extraction import load_set, score


def test_labelled_set_meets_precision_and_recall_bars(
        record_property: Callable[[str, object], None]) -> None:
    rows = load_set()
    assert len(rows) >= 100
    kinds = {r.kind for r in rows}
    assert {"name", "place", "like", "dislike", "allergy", "negation", "question", "others",
            "hedge", "multi", "correction"} <= kinds
    s = score(rows)
    record_property("extraction", s.summary())
    detail = "\n".join([s.summary()] + [f"wrong {t!r}: {f}" for t, f in s.wrong]
                       + [f"missed {t!r}: {f}" for t, f in s.missed])
    assert s.precision >= 0.95, detail
    assert s.recall >= 0.80, detail


def test_the_quoted_failure_stores_what_was_said() -> None:
    # Issue 15: stored name = "Ann and I love rye bread".
    found = {(m.category, m.key, m.value) for m in extract_memories(
        "Hi! Do you bake sourdough? My name is Ann and I love rye bread.")}
    assert found == {("PERSONAL", "name", "Ann"), ("INTEREST", "likes_rye_bread", "rye bread")}


@pytest.mark.parametrize("text", [
    "My friend is allergic to nuts.", "I'm not allergic to anything.",
    "I think I might be allergic to nuts.", "Am I allergic to anything?",
    "The cake is for my daughter, she is allergic to eggs.",
])
def test_not_the_users_fact_is_not_stored(text: str) -> None:
    assert extract_memories(text) == []


@pytest.mark.parametrize("first,second,key,value", [
    ("My name is Ann.", "my name isn't Ann, it's Bob", "name", "Bob"),
    ("My name is Ann.", "Actually, my name is Bob.", "name", "Bob"),
    ("I live in Paris.", "I moved to Lyon last year.", "home_location", "Lyon"),
    ("I'm allergic to nuts.", "Sorry, I'm allergic to peanuts, not all nuts.", "allergy",
     "peanuts"),
])
def test_a_correction_lands_on_the_same_key(first: str, second: str, key: str,
                                            value: str) -> None:
    before = {m.key: m for m in extract_memories(first)}
    after = {m.key: m for m in extract_memories(second)}
    assert key in before and after[key].value == value
    assert after[key].category == before[key].category
