"""passage embeddings: knowledge passages found by meaning as well as by words

Adds ``knowledge_passages.embedding`` (a unit-length float32 vector as bytes,
NULL when the offline embedding model is not installed) and fills it for the
passages that exist. ``knowledge_passages`` already has its row-level security
policy (0005) and full-text triggers (0006); adding a column keeps both (no
table rebuild).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_BATCH = 500


def upgrade() -> None:
    op.add_column("knowledge_passages", sa.Column("embedding", sa.LargeBinary(), nullable=True))
    from voxa import embeddings

    if not embeddings.available():
        return  # searched by words until re-indexed
    bind = op.get_bind()
    passages = sa.table("knowledge_passages", sa.column("id", sa.Integer),
                        sa.column("text", sa.Text), sa.column("embedding", sa.LargeBinary))
    last = 0
    while True:
        rows = bind.execute(sa.select(passages.c.id, passages.c.text)
                            .where(passages.c.id > last).order_by(passages.c.id)
                            .limit(_BATCH)).all()
        if not rows:
            break
        vectors = embeddings.embed_now([r.text for r in rows])
        for row, vector in zip(rows, vectors, strict=True):
            bind.execute(passages.update().where(passages.c.id == row.id)
                         .values(embedding=embeddings.to_bytes(vector)))
        last = rows[-1].id


def downgrade() -> None:
    # Not a batch (table rebuild) on SQLite: that would drop the full-text triggers.
    op.execute("ALTER TABLE knowledge_passages DROP COLUMN embedding")
