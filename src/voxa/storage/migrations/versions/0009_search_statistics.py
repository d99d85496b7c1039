"""search statistics: gather PostgreSQL's statistics for the full-text indexes

0006 created expression indexes (to_tsvector) on tables that may already be
large. PostgreSQL has no statistics for an expression until the table is next
analyzed, and autovacuum analyzes a table only after a tenth of it changed, which
on a big, settled table can take weeks. Until then the planner guesses every word
is rare: a common word's search sorted all its matches (80 ms on 100,000
messages) or, with no table statistics at all, probed the full-text index once
per session (2.7 s). ANALYZE samples a fixed number of rows, so it is quick at
any size. SQLite needs nothing: FTS5 keeps its own index.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TABLES = ("agent_messages", "agent_sessions", "knowledge_passages")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    """Statistics are not schema: nothing to undo."""
