"""row-level security on the tenant tables (PostgreSQL; a no-op on SQLite)

A second wall under the application's scope checks: each transaction says whose
rows it may touch (``voxa.storage.tenancy`` sets ``voxa.scope`` and
``voxa.business_id`` with ``set_config(..., true)`` as it begins), and the
policies below hide and refuse everything else, even to a query that forgot its
WHERE clause. ``voxa.scope`` is ``system`` (operator jobs: sees everything) or
``tenant`` (one business's rows, or the ``general`` rows when ``voxa.business_id``
is empty); unset or anything else sees nothing.

FORCE makes the policies bind the tables' owner too, so the application's own
role (which runs these migrations) cannot bypass them. Superusers and roles with
BYPASSRLS always can: the application must not connect as one.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SCOPE = "current_setting('voxa.scope', true)"
_BUSINESS = "current_setting('voxa.business_id', true)"
_SYSTEM = f"{_SCOPE} = 'system'"
_TENANT = f"{_SCOPE} = 'tenant'"


def _business_rows(column: str) -> str:
    """Rows of the transaction's business; NULL-business rows for ``general``."""
    return (f"{_SYSTEM} OR ({_TENANT} AND ({column} = NULLIF({_BUSINESS}, '') "
            f"OR ({column} IS NULL AND {_BUSINESS} = '')))")


# table -> the condition a row must meet to be seen or written
POLICIES = {
    # a business's agents hold its owner's instructions; the general agent is general's
    "agents": _business_rows("business_id"),
    "agent_sessions": _business_rows("business_id"),
    "tickets": _business_rows("business_id"),
    # memories.scope is the business id, or 'general' for general users
    "memories": (f"{_SYSTEM} OR ({_TENANT} AND "
                 f"scope = COALESCE(NULLIF({_BUSINESS}, ''), 'general'))"),
    # a message belongs to its session's tenant; agent_sessions' own policy
    # filters the subquery, so a message is visible exactly when its session is
    "agent_messages": (f"{_SYSTEM} OR EXISTS (SELECT 1 FROM agent_sessions s "
                       "WHERE s.session_id = agent_messages.session_id)"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, condition in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY voxa_tenant ON {table} USING ({condition}) "
                   f"WITH CHECK ({condition})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in POLICIES:
        op.execute(f"DROP POLICY IF EXISTS voxa_tenant ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
