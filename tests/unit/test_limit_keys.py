"""Rate-limit keys: hostile values cannot collide with or reach into other keys."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from voxa.limits.address import client_address
from voxa.limits.keys import KEY_PATTERN, address_part, email_part, limit_key

parts = st.lists(st.text(max_size=300), min_size=1, max_size=4)
names = st.sampled_from(["login_per_account", "turns_per_session", "signup_per_address"])


@given(name=names, a=parts, b=parts)
def test_distinct_inputs_never_share_a_key(name: str, a: list[str], b: list[str]) -> None:
    if a != b:
        assert limit_key(name, *a) != limit_key(name, *b)
    else:
        assert limit_key(name, *a) == limit_key(name, *b)


@given(a=parts, b=parts)
def test_limits_never_share_keys(a: list[str], b: list[str]) -> None:
    assert limit_key("login_per_account", *a) != limit_key("login_per_address", *b)


@given(value=st.text(max_size=5000))
def test_any_value_gives_a_bounded_printable_key(value: str) -> None:
    for part in (value, email_part(value), address_part(value)):
        key = limit_key("login_per_account", part)
        assert KEY_PATTERN.match(key) and len(key) <= 81
        assert "\n" not in key and key.isascii()


@given(value=st.text(max_size=100))
def test_separators_do_not_merge_parts(value: str) -> None:
    assert limit_key("x", value + ":", "y") != limit_key("x", value, ":y")
    assert limit_key("x", value, "") != limit_key("x", value)


@given(local=st.from_regex(r"[a-z0-9._]{1,20}", fullmatch=True))
def test_email_case_and_space_do_not_make_a_new_account(local: str) -> None:
    email = f"{local}@example.com"
    assert email_part(f"  {email.upper()} ") == email_part(email)


def test_ipv6_is_counted_per_slash_64_and_mapped_ipv4_as_ipv4() -> None:
    assert address_part("2001:db8::1") == address_part("2001:db8::ffff:1")
    assert address_part("2001:db8::1") != address_part("2001:db8:0:1::1")
    assert address_part("::ffff:203.0.113.9") == address_part("203.0.113.9")


def _request(peer: str, forwarded: list[str] | None = None) -> Request:
    headers = [(b"x-forwarded-for", v.encode()) for v in forwarded or []]
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_forwarded_for_is_ignored_from_untrusted_peers() -> None:
    req = _request("198.51.100.7", ["203.0.113.1"])
    assert client_address(req, []) == "198.51.100.7"
    assert client_address(req, ["10.0.0.0/8"]) == "198.51.100.7"


def test_rightmost_untrusted_hop_behind_trusted_proxies() -> None:
    # The client wrote "1.2.3.4" itself; the proxies appended what they saw.
    req = _request("10.0.0.2", ["1.2.3.4, 203.0.113.50", "10.0.0.1"])
    assert client_address(req, ["10.0.0.0/8"]) == "203.0.113.50"
    only_proxies = _request("10.0.0.2", ["10.0.0.1"])
    assert client_address(only_proxies, ["10.0.0.0/8"]) == "10.0.0.2"


@given(header=st.text(max_size=500))
def test_any_forwarded_header_gives_a_short_answer(header: str) -> None:
    req = _request("10.0.0.2", [header.encode("utf-8", "replace").decode("latin-1")])
    got = client_address(req, ["10.0.0.0/8"])
    assert len(got) <= 64
    try:
        ip = ipaddress.ip_address(got)
    except ValueError:
        return  # not an address: it only ever forms a bucket of its own
    assert got == "10.0.0.2" or ip not in ipaddress.ip_network("10.0.0.0/8")
