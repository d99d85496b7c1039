"""The one place that builds and parses LiveKit room names.

- owner:    ``owner-{business}-session-{session_id}``
- customer: ``{business}-session-{session_id}``
- general:  ``general-session-{session_id}``

The parse is exact for every valid slug: the session id has a fixed format and
sits at the end, slugs never start with ``owner`` and are never ``general``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voxa.domain import Role
from voxa.errors import InvalidInput
from voxa.sessions.ids import SESSION_ID_PATTERN, validate_session_id
from voxa.slugs import is_valid_slug, validate_slug


@dataclass(frozen=True, slots=True)
class RoomName:
    role: Role
    business: str | None
    session_id: str

    def __str__(self) -> str:
        return build_room_name(self.role, self.business, self.session_id)


_SUFFIX_RE = re.compile(rf"(?P<prefix>.+)-session-(?P<sid>{SESSION_ID_PATTERN})")


def build_room_name(role: Role | str, business: str | None, session_id: str) -> str:
    role = Role(role)
    validate_session_id(session_id)
    if role is Role.general:
        if business is not None:
            raise InvalidInput("a general session has no business")
        return f"general-session-{session_id}"
    if business is None:
        raise InvalidInput(f"a {role} session needs a business")
    validate_slug(business)
    if role is Role.owner:
        return f"owner-{business}-session-{session_id}"
    return f"{business}-session-{session_id}"


def parse_room_name(name: str) -> RoomName:
    """Inverse of :func:`build_room_name`; raises ``InvalidInput`` for anything else."""
    m = _SUFFIX_RE.fullmatch(name)
    if m is None:
        raise InvalidInput(f"not a voxa room name: {name!r}", code="invalid_room_name")
    prefix, sid = m["prefix"], m["sid"]
    if prefix == "general":
        return RoomName(Role.general, None, sid)
    if prefix.startswith("owner-") and is_valid_slug(prefix[len("owner-") :]):
        return RoomName(Role.owner, prefix[len("owner-") :], sid)
    if is_valid_slug(prefix):
        return RoomName(Role.customer, prefix, sid)
    raise InvalidInput(f"not a voxa room name: {name!r}", code="invalid_room_name")
