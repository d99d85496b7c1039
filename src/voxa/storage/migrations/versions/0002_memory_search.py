"""full-text search over memories

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE memories_fts USING fts5("
            "key, value, content='memories', content_rowid='rowid')"
        )
        op.execute(
            "CREATE TRIGGER memories_fts_ai AFTER INSERT ON memories BEGIN "
            "INSERT INTO memories_fts(rowid, key, value) VALUES (new.rowid, new.key, new.value); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER memories_fts_ad AFTER DELETE ON memories BEGIN "
            "INSERT INTO memories_fts(memories_fts, rowid, key, value) "
            "VALUES ('delete', old.rowid, old.key, old.value); END"
        )
        op.execute(
            "CREATE TRIGGER memories_fts_au AFTER UPDATE ON memories BEGIN "
            "INSERT INTO memories_fts(memories_fts, rowid, key, value) "
            "VALUES ('delete', old.rowid, old.key, old.value); "
            "INSERT INTO memories_fts(rowid, key, value) VALUES (new.rowid, new.key, new.value); "
            "END"
        )
        op.execute("INSERT INTO memories_fts(memories_fts) VALUES ('rebuild')")
    else:
        op.execute(
            "CREATE INDEX ix_memories_fts ON memories USING gin "
            "(to_tsvector('simple', key || ' ' || value))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("memories_fts_ai", "memories_fts_ad", "memories_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS memories_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_memories_fts")
