"""turn fencing: a per-session turn sequence, bumped by the turn that holds the
session's lease; a reply is stored only while its turn's number is current.
(The unique ``(session_id, client_message_id)`` index that makes retries
idempotent already exists since 0001: ``uq_agent_messages_client_id``.)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agent_sessions") as batch:
        batch.add_column(sa.Column("turn_seq", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("agent_sessions") as batch:
        batch.drop_column("turn_seq")
