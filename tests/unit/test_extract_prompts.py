import pytest

from voxa.agent.extract import extract_memories
from voxa.persona.prompts import greeting_for, instructions_for


@pytest.mark.parametrize("text,expected", [
    ("My favorite color is blue.", ("PREFERENCE", "favorite_color", "blue")),
    ("my favourite food is spicy ramen", ("PREFERENCE", "favorite_food", "spicy ramen")),
    ("Hi, my name is Ada Lovelace", ("PERSONAL", "name", "Ada Lovelace")),
    ("I live in Porto, near the river", ("FACT", "home_location", "Porto")),
    ("I'm allergic to peanuts!", ("FACT", "allergy", "peanuts")),
    ("I am vegan", ("PREFERENCE", "diet", "vegan")),
    ("I really love hiking in the mountains", ("INTEREST", "likes_hiking_in_the_mountains",
                                               "hiking in the mountains")),
    ("I work at Acme Corp", ("FACT", "employer", "Acme Corp")),
    ("I don't like cilantro", ("PREFERENCE", "dislikes_cilantro", "cilantro")),
])
def test_extracts_durable_facts(text: str, expected: tuple[str, str, str]) -> None:
    found = [(m.category, m.key, m.value) for m in extract_memories(text)]
    assert expected in found


@pytest.mark.parametrize("text", ["What is my favorite color?", "Do I live in Paris?",
                                  "hello there", "What are your opening hours?", ""])
def test_questions_and_small_talk_are_not_facts(text: str) -> None:
    assert extract_memories(text) == []


def test_one_fact_per_sentence_and_bounded() -> None:
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    text = ". ".join(f"My favorite {w} is blue" for w in words)
    assert len(extract_memories(text)) == 5


def test_role_texts_fill_name_and_business_and_honour_overrides() -> None:
    text = instructions_for("customer", name="Mia", business="Corner Cafe")
    assert "Corner Cafe" in text and "Mia" in text
    assert "this business's data" in instructions_for("owner", name="Olu", business="Corner Cafe")
    assert greeting_for("general", name="Gus", business=None) == (
        "Hi Gus! What can I do for you today?")
    custom = greeting_for("customer", name="Mia", business="Cafe",
                          overrides={"customer": "Yo {name}, this is {business}. {unknown}"})
    assert custom == "Yo Mia, this is Cafe. {unknown}"
    assert "Mia" in greeting_for("customer", name="Mia", business="Cafe",
                                 overrides={"customer": "  "})
