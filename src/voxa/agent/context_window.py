"""The conversation window a turn sees: a running summary plus the newest
messages. Loading is an indexed "last N" query and summarising
works on bounded batches, so a turn costs the same at message 10 and 100,000."""

from __future__ import annotations

from dataclasses import dataclass

from livekit.agents import llm
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from voxa.sessions.summary import Summarizer
from voxa.storage.models import AgentMessage, AgentSession
from voxa.storage.repos import messages as messages_repo
from voxa.storage.repos import sessions as sessions_repo
from voxa.storage.scope import Scope
from voxa.storage.session_state import SessionState
from voxa.tracing import traced

WINDOW = 20  # messages loaded per turn
TRIM_AT = 50  # past this many unsummarised messages, fold the oldest into the summary


@dataclass(frozen=True, slots=True)
class Window:
    summary: str | None
    messages: list[AgentMessage]


def summary_note(summary: str) -> str:
    """The running summary as the system prompt states it, in every channel."""
    return "Earlier in this conversation the user said: " + summary


def chat_messages(rows: list[AgentMessage]) -> list[AgentMessage]:
    return [m for m in rows if m.role in ("user", "assistant", "human_agent")]


@traced("voxa.history_load")
async def load_window(db: AsyncSession, row: AgentSession, *, size: int = WINDOW) -> Window:
    scope = Scope.user(row.user_id, row.business_id)
    rows = await messages_repo.list_messages(db, row.session_id, scope=scope, limit=size)
    return Window(summary=SessionState.of(row.context_data).summary,
                  messages=chat_messages(rows))


def fold_due(row: AgentSession, message_count: int, *, trim_at: int = TRIM_AT) -> bool:
    """Cheap check (no query): can more than ``trim_at`` messages have piled up
    since the last fold? Only then does :func:`maybe_summarize` look."""
    last = SessionState.of(row.context_data).summary_count
    return message_count - last > trim_at


async def maybe_summarize(db: AsyncSession, row: AgentSession, summarizer: Summarizer,
                          *, window: int = WINDOW, trim_at: int = TRIM_AT) -> bool:
    """Once more than ``trim_at`` messages follow the last fold, fold all but the
    newest ``window`` into the running summary. Both queries are bounded."""
    state = SessionState.of(row.context_data)
    upto = state.summary_upto
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
        "summary": summarizer.fold(state.summary or "", batch),
        "summary_upto": batch[-1].id,
        "summary_count": row.message_count,
    }
    await sessions_repo.merge_context(db, row.session_id, changes, scope=Scope.owning(row))
    return True


def chat_context(system: list[str], window: Window) -> llm.ChatContext:
    """What the model sees: one system message (``system`` and the summary),
    then the window's messages."""
    parts = list(system)
    if window.summary:
        parts.append(summary_note(window.summary))
    ctx = llm.ChatContext.empty()
    ctx.add_message(role="system", content="\n\n".join(parts))
    for m in window.messages:
        if m.role == "human_agent":  # the business's person spoke for the assistant
            ctx.add_message(role="assistant",
                            content="(a person from the business wrote) " + m.content)
        else:
            ctx.add_message(role=m.role, content=m.content)  # type: ignore[arg-type]
    return ctx
