"""An owner's search over its business's conversations: words in
messages (full-text indexed by migration 0006), session summaries and tickets,
newest first, paged by a cursor (the last hit's time). Scoped to one business
by the required ``scope``, and by row-level security on PostgreSQL."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, Select, and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from voxa.errors import InvalidInput
from voxa.search_words import search_words
from voxa.storage.models import AgentMessage, AgentSession, Ticket
from voxa.storage.scope import Scope

SNIPPET_CHARS = 240


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str  # message | summary | ticket
    id: str
    session_id: str | None
    text: str
    created_at: datetime


def encode_cursor(when: datetime) -> str:
    return base64.urlsafe_b64encode(when.isoformat().encode()).decode()


def decode_cursor(cursor: str) -> datetime:
    try:
        return datetime.fromisoformat(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("not a cursor from this search", code="invalid_cursor") from exc


def _business(scope: Scope) -> str:
    if scope.kind != "business" or scope.business_id is None:
        raise InvalidInput("search is over one business", code="no_business")
    return scope.business_id


def _messages(db: AsyncSession, words: list[str], business_id: str
              ) -> Select[AgentMessage, str]:
    stmt = (select(AgentMessage, AgentSession.session_id)
            .join(AgentSession, AgentSession.session_id == AgentMessage.session_id)
            .where(AgentSession.business_id == business_id,
                   AgentMessage.role.in_(("user", "assistant"))))
    if db.get_bind().dialect.name == "sqlite":
        fts = (text("SELECT rowid AS rid FROM agent_messages_fts "
                    "WHERE agent_messages_fts MATCH :match")
               .bindparams(match=" ".join(f'"{w}"' for w in words))
               .columns(rid=Integer).subquery("fts"))
        return stmt.where(AgentMessage.id.in_(select(fts.c.rid)))
    tsq = func.to_tsquery("simple", " & ".join(words))
    return stmt.where(func.to_tsvector("simple", AgentMessage.content).op("@@")(tsq))


def _contains_all(column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None],
                  words: list[str]) -> ColumnElement[bool]:
    # words are letters and digits only (search_words): no LIKE wildcards
    return and_(*(column.ilike(f"%{w}%") for w in words))


async def search(db: AsyncSession, query: str, *, scope: Scope, limit: int = 20,
                 before: datetime | None = None) -> tuple[list[Hit], datetime | None]:
    """Hits newest first and the cursor time for the next page (None: last page)."""
    business_id = _business(scope)
    words = search_words(query)
    if not words:
        return [], None
    hits: list[Hit] = []
    msgs = _messages(db, words, business_id)
    if before is not None:
        msgs = msgs.where(AgentMessage.created_at < before)
    if db.get_bind().dialect.name == "sqlite":
        # ids grow with time: walking the primary key backwards stops after a
        # page of matches instead of sorting every match of a common word
        msgs = msgs.order_by(AgentMessage.id.desc()).limit(limit + 1)
    else:
        msgs = msgs.order_by(AgentMessage.created_at.desc()).limit(limit + 1)
    for m, sid in (await db.execute(msgs)).all():
        hits.append(Hit("message", str(m.id), sid, m.content[:SNIPPET_CHARS], m.created_at))
    ended = AgentSession.ended_at
    sums = select(AgentSession).where(AgentSession.business_id == business_id,
                                      AgentSession.outcome_summary.is_not(None),
                                      _contains_all(AgentSession.outcome_summary, words))
    if before is not None:
        sums = sums.where(ended < before)
    for s in (await db.execute(sums.order_by(ended.desc()).limit(limit + 1))).scalars():
        hits.append(Hit("summary", s.session_id, s.session_id,
                        (s.outcome_summary or "")[:SNIPPET_CHARS], s.ended_at or s.started_at))
    tix = select(Ticket).where(Ticket.business_id == business_id, or_(
        _contains_all(Ticket.subject, words), _contains_all(Ticket.body, words)))
    if before is not None:
        tix = tix.where(Ticket.created_at < before)
    for t in (await db.execute(tix.order_by(Ticket.created_at.desc()).limit(limit + 1))).scalars():
        hits.append(Hit("ticket", t.id, t.session_id,
                        f"{t.subject}: {t.body}"[:SNIPPET_CHARS], t.created_at))
    hits.sort(key=lambda h: h.created_at, reverse=True)
    page = hits[:limit]
    return page, (page[-1].created_at if len(hits) > limit else None)
