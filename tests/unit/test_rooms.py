import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxa.domain import Role
from voxa.errors import InvalidInput
from voxa.sessions.ids import is_session_id, new_session_id
from voxa.sessions.rooms import build_room_name, parse_room_name
from voxa.slugs import is_valid_slug

_alnum = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789")
_chunk = st.text(_alnum, min_size=1, max_size=8)
slugs = st.lists(_chunk, min_size=1, max_size=6).map("-".join).filter(is_valid_slug)
# Slugs built to look like room-name parts, to try to confuse the parser.
tricky = st.sampled_from(
    [
        "general-store",
        "my-session-shop",
        "session",
        "sessions-1",
        "own3rless",
        "abc-session-123",
        "a-b",
        "gen",
        "x-owner",
        "shop-general",
        "session-session",
    ]
)
session_ids = st.builds(
    lambda ms, u: f"{ms:013d}-{u}",
    st.integers(min_value=10**12, max_value=10**13 - 1),
    st.uuids(version=4).map(str),
)


@given(
    slug=st.one_of(slugs, tricky.filter(is_valid_slug)),
    sid=session_ids,
    role=st.sampled_from([Role.owner, Role.customer]),
)
def test_business_room_round_trip(slug: str, sid: str, role: Role) -> None:
    name = build_room_name(role, slug, sid)
    parsed = parse_room_name(name)
    assert (parsed.role, parsed.business, parsed.session_id) == (role, slug, sid)
    assert str(parsed) == name


@given(sid=session_ids)
def test_general_room_round_trip(sid: str) -> None:
    parsed = parse_room_name(build_room_name(Role.general, None, sid))
    assert (parsed.role, parsed.business, parsed.session_id) == (Role.general, None, sid)


def test_room_patterns() -> None:
    sid = new_session_id()
    assert build_room_name("owner", "acme", sid) == f"owner-acme-session-{sid}"
    assert build_room_name("customer", "acme", sid) == f"acme-session-{sid}"
    assert build_room_name("general", None, sid) == f"general-session-{sid}"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "acme",
        "acme-session-",
        "acme-session-123",
        "general-session-nope",
        "owner-session-" + "1" * 13 + "-00000000-0000-4000-8000-000000000000",
        "UPPER-session-" + "1" * 13 + "-00000000-0000-4000-8000-000000000000",
        "owner-owner-x-session-" + "1" * 13 + "-00000000-0000-4000-8000-000000000000",
    ],
)
def test_parse_rejects_garbage(name: str) -> None:
    with pytest.raises(InvalidInput):
        parse_room_name(name)


def test_build_rejects_bad_parts() -> None:
    sid = new_session_id()
    with pytest.raises(InvalidInput):
        build_room_name("customer", "general", sid)
    with pytest.raises(InvalidInput):
        build_room_name("owner", "owner-co", sid)
    with pytest.raises(InvalidInput):
        build_room_name("customer", None, sid)
    with pytest.raises(InvalidInput):
        build_room_name("general", "acme", sid)
    with pytest.raises(InvalidInput):
        build_room_name("customer", "acme", "not-an-id")


def test_session_ids_unique_and_well_formed() -> None:
    ids = {new_session_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(is_session_id(i) for i in ids)
