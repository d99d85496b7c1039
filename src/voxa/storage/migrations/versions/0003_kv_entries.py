"""kv_entries: the TTL store on the SQL database (embedded multi-process)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kv_entries",
        sa.Column("key", sa.String(length=512), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
    )
    op.create_index("ix_kv_entries_expires", "kv_entries", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_kv_entries_expires", table_name="kv_entries")
    op.drop_table("kv_entries")
