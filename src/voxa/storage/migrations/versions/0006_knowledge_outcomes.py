"""knowledge base per business (documents, passages, full-text search, RLS);
session outcomes; full-text search over conversation messages

A business's documents are split into passages; each customer turn searches
that business's passages (SQLite: an FTS5 table kept in sync by triggers;
PostgreSQL: a GIN index on ``to_tsvector``). Both tables hold one business's
data, so on PostgreSQL they get the same row-level policy as 0005.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_SCOPE = "current_setting('voxa.scope', true)"
_BUSINESS = "current_setting('voxa.business_id', true)"
_TENANT_ROWS = (f"{_SCOPE} = 'system' OR ({_SCOPE} = 'tenant' AND "
                f"business_id = NULLIF({_BUSINESS}, ''))")
_TABLES = ("knowledge_documents", "knowledge_passages")


def _messages_fts_sqlite() -> None:
    """Conversation search (voxa.sessions.search): FTS5 over message content."""
    op.execute("CREATE VIRTUAL TABLE agent_messages_fts USING fts5("
               "content, content='agent_messages', content_rowid='id')")
    op.execute("CREATE TRIGGER agent_messages_fts_ai AFTER INSERT ON agent_messages BEGIN "
               "INSERT INTO agent_messages_fts(rowid, content) VALUES (new.id, new.content); END")
    op.execute("CREATE TRIGGER agent_messages_fts_ad AFTER DELETE ON agent_messages BEGIN "
               "INSERT INTO agent_messages_fts(agent_messages_fts, rowid, content) "
               "VALUES ('delete', old.id, old.content); END")
    op.execute("CREATE TRIGGER agent_messages_fts_au AFTER UPDATE OF content ON agent_messages "
               "BEGIN INSERT INTO agent_messages_fts(agent_messages_fts, rowid, content) "
               "VALUES ('delete', old.id, old.content); "
               "INSERT INTO agent_messages_fts(rowid, content) VALUES (new.id, new.content); END")
    op.execute("INSERT INTO agent_messages_fts(agent_messages_fts) VALUES ('rebuild')")


def upgrade() -> None:
    # a finished session's outcome (voxa.sessions.outcomes), written as it closes
    with op.batch_alter_table("agent_sessions") as batch:
        batch.add_column(sa.Column("outcome", sa.String(24), nullable=True))
        batch.add_column(sa.Column("outcome_summary", sa.Text(), nullable=True))
        batch.add_column(sa.Column("contact_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("contact_email", sa.String(320), nullable=True))
    op.create_index("ix_agent_sessions_business_outcome", "agent_sessions",
                    ["business_id", "outcome"])
    op.create_table(
        "knowledge_documents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("business_id", sa.String(36),
                  sa.ForeignKey("businesses.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_knowledge_documents_business", "knowledge_documents",
                    ["business_id", "updated_at"])
    op.create_table(
        "knowledge_passages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("business_id", sa.String(36),
                  sa.ForeignKey("businesses.id", ondelete="CASCADE"), nullable=False),
        sa.Column("document_id", sa.String(36),
                  sa.ForeignKey("knowledge_documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_knowledge_passages_document", "knowledge_passages",
                    ["document_id", "ordinal"])
    op.create_index("ix_knowledge_passages_business", "knowledge_passages", ["business_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE knowledge_fts USING fts5("
                   "text, content='knowledge_passages', content_rowid='id')")
        op.execute("CREATE TRIGGER knowledge_fts_ai AFTER INSERT ON knowledge_passages BEGIN "
                   "INSERT INTO knowledge_fts(rowid, text) VALUES (new.id, new.text); END")
        op.execute("CREATE TRIGGER knowledge_fts_ad AFTER DELETE ON knowledge_passages BEGIN "
                   "INSERT INTO knowledge_fts(knowledge_fts, rowid, text) "
                   "VALUES ('delete', old.id, old.text); END")
        _messages_fts_sqlite()
        op.execute("CREATE TRIGGER knowledge_fts_au AFTER UPDATE ON knowledge_passages BEGIN "
                   "INSERT INTO knowledge_fts(knowledge_fts, rowid, text) "
                   "VALUES ('delete', old.id, old.text); "
                   "INSERT INTO knowledge_fts(rowid, text) VALUES (new.id, new.text); END")
        return
    op.execute("CREATE INDEX ix_knowledge_passages_fts ON knowledge_passages USING gin "
               "(to_tsvector('simple', text))")
    # the owner's search over conversations (voxa.sessions.search)
    op.execute("CREATE INDEX ix_agent_messages_fts ON agent_messages USING gin "
               "(to_tsvector('simple', content))")
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY voxa_tenant ON {table} USING ({_TENANT_ROWS}) "
                   f"WITH CHECK ({_TENANT_ROWS})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("knowledge_fts_ai", "knowledge_fts_ad", "knowledge_fts_au",
                     "agent_messages_fts_ai", "agent_messages_fts_ad", "agent_messages_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS knowledge_fts")
        op.execute("DROP TABLE IF EXISTS agent_messages_fts")
    else:
        for table in _TABLES:
            op.execute(f"DROP POLICY IF EXISTS voxa_tenant ON {table}")
        op.execute("DROP INDEX IF EXISTS ix_knowledge_passages_fts")
        op.execute("DROP INDEX IF EXISTS ix_agent_messages_fts")
    op.drop_table("knowledge_passages")
    op.drop_table("knowledge_documents")
    op.drop_index("ix_agent_sessions_business_outcome", table_name="agent_sessions")
    with op.batch_alter_table("agent_sessions") as batch:
        for column in ("contact_email", "contact_name", "outcome_summary", "outcome"):
            batch.drop_column(column)
