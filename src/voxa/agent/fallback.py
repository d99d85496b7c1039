"""What the assistant says when recognition, the model or speech fails: a
short line, never silence. A caller who can open a ticket is offered one."""

from __future__ import annotations

from livekit.agents import llm

from voxa.agent.assistant import VoxaAssistant

MODEL_FAILED = "Sorry, I can't answer that right now. Could you ask me again in a moment?"
TICKET_OFFER = " If you like, I can open a ticket so someone gets back to you."
NOT_HEARD = "Sorry, I didn't catch that. Could you say it again?"
TOO_MANY = "You're sending messages faster than I can answer. Please wait a moment."

# What ``stage`` of a turn failed, as counted in voxa_turn_fallbacks_total.
STAGES = ("model", "model_timeout", "busy", "stt", "tts")


def model_failed_line(assistant: VoxaAssistant) -> str:
    """The line for a turn the model could not answer."""
    names = {t.info.name for t in assistant.tools if isinstance(t, llm.FunctionTool)}
    return MODEL_FAILED + (TICKET_OFFER if "create_ticket" in names else "")
