"""A transcript's running summary: what the conversation window keeps of
folded messages and what a finished session's outcome reports."""

from __future__ import annotations

import re
from typing import Protocol

from voxa.storage.models import AgentMessage

SUMMARY_CHARS = 1500


class Summarizer(Protocol):
    def fold(self, summary: str, messages: list[AgentMessage]) -> str: ...


class ExtractiveSummarizer:
    """Keeps the gist of what the user said (first sentence of each user turn),
    bounded in size. Cheap and deterministic; a model-based summarizer can be
    plugged in through the same protocol."""

    def fold(self, summary: str, messages: list[AgentMessage]) -> str:
        points = []
        for m in messages:
            if m.role != "user":
                continue
            first = re.split(r"(?<=[.!?])\s", m.content.strip(), maxsplit=1)[0][:120]
            if first:
                points.append(first)
        merged = "; ".join(p for p in [summary, *points] if p)
        return merged[-SUMMARY_CHARS:]
