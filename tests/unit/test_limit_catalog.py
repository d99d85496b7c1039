"""Per-business limit overrides: anything an operator sends is either a valid
override or a ValueError (a 422), never another exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from limits import parse_many

from voxa.limits import catalog
from voxa.settings import Settings

values = st.one_of(st.none(), st.integers(), st.booleans(), st.text(max_size=120),
                   st.from_regex(r"[0-9]{1,4}/(second|minute|hour|day)(;[0-9]{1,3}/hour)?",
                                 fullmatch=True))
names = st.one_of(st.sampled_from(sorted(catalog.PER_BUSINESS | set(catalog.RATES))),
                  st.text(max_size=40))


@given(changes=st.dictionaries(names, values, max_size=4))
def test_overrides_are_valid_or_refused(changes: dict[str, object]) -> None:
    try:
        checked = catalog.validate_overrides(changes)
    except ValueError:
        return
    settings = Settings(env="test")
    for name, value in checked.items():
        assert name in catalog.PER_BUSINESS
        if value is None:
            continue
        if name in catalog.COUNTS:
            assert catalog.count(settings, name, checked) == value > 0
        else:
            assert all(i.amount > 0 for i in parse_many(str(value)))
            assert catalog.rate(settings, name, checked)


def test_login_and_signup_cannot_be_overridden_per_business() -> None:
    with pytest.raises(ValueError):
        catalog.validate_overrides({"login_per_account": "1000/second"})
    settings = Settings(env="test")
    sneaky = {"login_per_account": "1000/second"}
    assert catalog.rate(settings, "login_per_account", sneaky) == parse_many(
        settings.limit_login_per_account)


def test_bad_settings_are_refused_at_start() -> None:
    with pytest.raises(ValueError):
        Settings(env="test", limit_turns_per_session="lots")
    with pytest.raises(ValueError):
        Settings(env="test", limit_login_per_account="0/minute")
    with pytest.raises(ValueError):
        Settings(env="test", trusted_proxies="not-a-network")
    assert Settings(env="test", trusted_proxies='["10.1.2.3/8"]').trusted_proxies == [
        "10.0.0.0/8"]
