"""The domain vocabulary: one spelling of each closed set."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, get_args

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from voxa import domain
from voxa.domain import (
    Channel,
    DocumentKind,
    OutcomeKind,
    Role,
    SessionStatus,
    TicketStatus,
    tenant_key,
)
from voxa.storage.types import EnumText

PAIRS: list[tuple[Any, type[StrEnum]]] = [
    (domain.RoleName, Role),
    (domain.SessionStatusName, SessionStatus),
    (domain.ChannelName, Channel),
    (domain.TicketStatusName, TicketStatus),
    (domain.OutcomeKindName, OutcomeKind),
    (domain.DocumentKindName, DocumentKind),
]


@pytest.mark.parametrize(("alias", "enum"), PAIRS, ids=[e.__name__ for _, e in PAIRS])
def test_schema_literals_spell_the_enums(alias: Any, enum: type[StrEnum]) -> None:
    assert list(get_args(alias)) == [m.value for m in enum]


def test_business_roles_are_the_roles_with_a_business() -> None:
    assert set(get_args(domain.BusinessRoleName)) == {Role.owner, Role.customer}


def test_members_are_their_strings() -> None:
    assert Role.owner == "owner" and f"{SessionStatus.timeout}" == "timeout"


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_enum_column_stores_the_plain_string(dialect: Any) -> None:
    col = EnumText(TicketStatus, 16)
    assert col.process_bind_param(TicketStatus.pending, dialect) == "pending"
    assert col.process_bind_param("closed", dialect) == "closed"
    assert col.process_result_value("open", dialect) is TicketStatus.open
    with pytest.raises(ValueError):
        col.process_bind_param("reopened", dialect)


def test_tenant_key() -> None:
    assert tenant_key(None) == "general"
    assert tenant_key("b-1") == "b-1"
