"""The conversation window a turn sees: a running summary plus the newest
messages. Loading is an indexed "last N" query and summarising
works on bounded batches, so a turn costs the same at message 10 and 100,000."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.storage.models import AgentMessage, AgentSession
from voxa.storage.repos import messages as messages_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.tracing import traced

WINDOW = 20  # messages loaded per turn
TRIM_AT = 50  # past this many unsummarised messages, fold the oldest into the summary
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


@dataclass(frozen=True, slots=True)
class Window:
    summary: str | None
    messages: list[AgentMessage]


def summary_note(summary: str) -> str:
    """The running summary as the system prompt states it, in every channel."""
    return "Earlier in this conversation the user said: " + summary


def chat_messages(rows: list[AgentMessage]) -> list[AgentMessage]:
    return [m for m in rows if m.role in ("user", "assistant")]


@traced("voxa.history_load")
async def load_window(db: AsyncSession, row: AgentSession, *, size: int = WINDOW) -> Window:
    scope = Scope.user(row.user_id, row.business_id)
    rows = await messages_repo.list_messages(db, row.session_id, scope=scope, limit=size)
    summary = (row.context_data or {}).get("summary")
    return Window(summary=str(summary) if summary else None, messages=chat_messages(rows))


def fold_due(row: AgentSession, message_count: int, *, trim_at: int = TRIM_AT) -> bool:
    """Cheap check (no query): can more than ``trim_at`` messages have piled up
    since the last fold? Only then does :func:`maybe_summarize` look."""
    last = int((row.context_data or {}).get("summary_count") or 0)
    return message_count - last > trim_at


async def maybe_summarize(db: AsyncSession, row: AgentSession, summarizer: Summarizer,
                          *, window: int = WINDOW, trim_at: int = TRIM_AT) -> bool:
    """Once more than ``trim_at`` messages follow the last fold, fold all but the
    newest ``window`` into the running summary. Both queries are bounded."""
    data = dict(row.context_data or {})
    upto = int(data.get("summary_upto") or 0)
    of_session = AgentMessage.session_id == row.session_id
    recent = list((await db.execute(
        select(AgentMessage.id).where(of_session, AgentMessage.id > upto)
        .order_by(AgentMessage.id.desc()).limit(trim_at + 1)
    )).scalars())
    if len(recent) <= trim_at:
        return False
    oldest_kept = recent[window - 1]
    # The newest messages before the window; after a long backlog the older
    # ones would not fit the bounded summary anyway, and folding newest-first
    # keeps one fold per backlog instead of one per turn until caught up.
    batch = list((await db.execute(
        select(AgentMessage).where(of_session, AgentMessage.id > upto,
                                   AgentMessage.id < oldest_kept)
        .order_by(AgentMessage.id.desc()).limit(4 * trim_at)
    )).scalars())
    batch.reverse()
    # Only the summary keys: the rest of context_data (agent_status, …) may have
    # changed since ``row`` was read and must not be written back stale.
    changes = {
        "summary": summarizer.fold(str(data.get("summary") or ""), batch),
        "summary_upto": batch[-1].id,
        "summary_count": row.message_count,
    }
    await sessions_repo.merge_context(db, row.session_id, changes, scope=Scope.system())
    return True
