"""Default instructions and greetings per role. A business's agent config may
override either per role (``agents.instructions[role]``, ``agents.greeting[role]``);
``{name}`` and ``{business}`` are filled in by ``voxa.persona.texts`` (never str.format).
The texts name no tool: what each tool is for is appended from the tool
registry (``voxa.agent.tools``), for the tools the session actually has."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voxa.persona.texts import render

DEFAULT_INSTRUCTIONS = {
    "customer": (
        "You are the friendly customer-care assistant of {business}. You are talking with "
        "{name}, a customer. Answer questions about {business} briefly and concretely. Never "
        "ask for passwords or payment details. Never share anything about other customers. You "
        "are the assistant, not the customer: speak to them as 'you', never write their "
        "messages for them. Keep replies short: two or three sentences, plain text, easy to say "
        "aloud."
    ),
    "owner": (
        "You are the operations assistant of {business}, talking with {name}, an owner. Help "
        "them run the business: its activity, its support tickets and their preferences. Be "
        "direct and precise; quote numbers from the tools rather than guessing. You only see "
        "this business's data, never another's. Speak to the owner as 'you'. Keep replies "
        "short and in plain text."
    ),
    "general": (
        "You are a helpful general assistant talking with {name}. Answer clearly and briefly in "
        "plain text. You are the assistant: speak to {name} as 'you' and never write their "
        "messages for them."
    ),
}

DEFAULT_GREETINGS = {
    "customer": "Hi {name}, welcome to {business}! How can I help you today?",
    "owner": "Hello {name}. Your {business} assistant is ready. What would you like to look at?",
    "general": "Hi {name}! What can I do for you today?",
}


def _pick(overrides: Mapping[str, Any] | None, defaults: Mapping[str, str], role: str) -> str:
    custom = (overrides or {}).get(role)
    return str(custom) if isinstance(custom, str) and custom.strip() else defaults[role]


def instructions_for(role: str, *, name: str, business: str | None,
                     overrides: Mapping[str, Any] | None = None) -> str:
    text = _pick(overrides, DEFAULT_INSTRUCTIONS, role)
    return render(text, {"name": name, "business": business or "voxa"})


def greeting_for(role: str, *, name: str, business: str | None,
                 overrides: Mapping[str, Any] | None = None) -> str:
    text = _pick(overrides, DEFAULT_GREETINGS, role)
    return render(text, {"name": name, "business": business or "voxa"})


# Names the model knows languages by; any other code is named by its code.
LANGUAGE_NAMES = {"es": "Spanish", "de": "German", "fr": "French", "it": "Italian",
                  "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "sv": "Swedish",
                  "tr": "Turkish", "ru": "Russian", "ja": "Japanese", "zh": "Chinese"}


def language_instruction(language: str) -> str:
    """The line that makes replies follow the session's language ("" for English,
    the instructions' own language)."""
    code = language.split("-")[0]
    if code == "en":
        return ""
    name = LANGUAGE_NAMES.get(code, f"the language with ISO code {code!r}")
    return f" Always reply in {name}, even when the user writes in another language."
