"""business hours: a business's weekly opening hours (NULL: always open)

The column is on ``businesses``, which already has its row-level security
policy (0005), so no new policy is needed.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("businesses") as batch:
        batch.add_column(sa.Column("hours", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("businesses") as batch:
        batch.drop_column("hours")
