"""Tenant scope for data access.

Repository functions take ``scope=`` as a required keyword argument. A scope
narrows every query: to one business (an owner), to one user within a business
or within ``general`` (a session holder, a customer), or — explicitly and
greppably — to everything, for the operator's jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, true

from voxa.domain import tenant_key


@dataclass(frozen=True, slots=True)
class Scope:
    kind: str  # "business" | "user" | "system"
    business_id: str | None = None
    user_id: str | None = None

    @classmethod
    def business(cls, business_id: str) -> Scope:
        """Everything that belongs to one business (an owner's view)."""
        return cls("business", business_id=business_id)

    @classmethod
    def user(cls, user_id: str, business_id: str | None) -> Scope:
        """One user's own rows in one business, or in ``general`` when None."""
        return cls("user", business_id=business_id, user_id=user_id)

    @classmethod
    def owning(cls, row: Any) -> Scope:
        """The narrowest scope holding ``row`` (a row with ``user_id`` and
        ``business_id``, e.g. a session already access-checked): its own user."""
        return cls.user(row.user_id, row.business_id)

    @classmethod
    def system(cls) -> Scope:
        """No narrowing. Only for operator jobs (cleanup, metrics)."""
        return cls("system")

    @property
    def memory_scope(self) -> str:
        """The memory namespace: the business id, or ``general``."""
        return tenant_key(self.business_id)

    def where(self, business_col: Any, user_col: Any | None = None) -> ColumnElement[bool]:
        """The filter this scope applies to a table's business/user columns."""
        if self.kind == "system":
            return true()
        business = (
            business_col.is_(None) if self.business_id is None else business_col == self.business_id
        )
        if self.kind == "business":
            return business  # type: ignore[no-any-return]
        if user_col is None:
            raise ValueError("a user scope needs a user column")
        return and_(business, user_col == self.user_id)
