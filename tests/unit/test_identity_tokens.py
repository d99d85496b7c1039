from datetime import timedelta

import jwt
import pytest

from voxa.auth.principal import AccountPrincipal, PrincipalKind, SessionPrincipal
from voxa.auth.tokens import TokenSigner
from voxa.errors import InvalidInput, Unauthenticated
from voxa.identity import (
    account_identity,
    issue_customer_id,
    user_id_for,
    verify_customer_id,
)
from voxa.storage.types import utcnow

KEY = "k" * 48


def test_user_ids_are_deterministic_uuid5() -> None:
    a = user_id_for(account_identity("Alice@Example.com "))
    assert a == user_id_for(account_identity("alice@example.com"))
    assert a != user_id_for(account_identity("bob@example.com"))
    assert a[14] == "5"  # uuid version 5


def test_customer_ids_are_bound_to_their_business() -> None:
    cid = issue_customer_id(KEY, "biz-a")
    assert verify_customer_id(KEY, "biz-a", cid) == cid
    with pytest.raises(InvalidInput):
        verify_customer_id(KEY, "biz-b", cid)
    with pytest.raises(InvalidInput):
        verify_customer_id("other-key" * 6, "biz-a", cid)
    with pytest.raises(InvalidInput):
        verify_customer_id(KEY, "biz-a", cid[:-2] + "AA")
    with pytest.raises(InvalidInput):
        verify_customer_id(KEY, "biz-a", "alice@example.com")
    assert issue_customer_id(KEY, "biz-a") != cid


def test_account_and_session_tokens_round_trip() -> None:
    signer = TokenSigner(KEY)
    issued = signer.account_token(
        user_id="u1", kind=PrincipalKind.owner, business_id="b1", version=3,
        ttl=timedelta(minutes=5),
    )
    principal = signer.verify(issued.value)
    assert principal == AccountPrincipal("u1", PrincipalKind.owner, "b1")
    assert isinstance(principal, AccountPrincipal) and principal.token is not None
    assert (principal.token.jti, principal.token.version) == (issued.jti, 3)
    assert principal.token.expires_at == issued.expires_at
    s = signer.session_token(
        session_id="s1",
        user_id="u2",
        role="customer",
        business_id="b1",
        expires_at=utcnow() + timedelta(minutes=5),
    )
    assert signer.verify(s) == SessionPrincipal("s1", "u2", "customer", "b1")


def test_forged_expired_and_foreign_tokens_refused() -> None:
    signer = TokenSigner(KEY)
    t = signer.account_token(
        user_id="u1", kind=PrincipalKind.general, business_id=None, version=0,
        ttl=timedelta(minutes=5),
    ).value
    claims = jwt.decode(t, KEY, algorithms=["HS256"], audience="voxa")
    forged = jwt.encode(
        {**claims, "kind": "owner", "bid": "b1"}, "attacker-key-" * 4, algorithm="HS256"
    )
    with pytest.raises(Unauthenticated):
        signer.verify(forged)
    with pytest.raises(Unauthenticated):
        TokenSigner("other" * 10).verify(t)
    expired = signer.session_token(
        session_id="s",
        user_id="u",
        role="customer",
        business_id="b",
        expires_at=utcnow() - timedelta(seconds=5),
    )
    with pytest.raises(Unauthenticated) as exc:
        signer.verify(expired)
    assert exc.value.code == "token_expired"
    unsigned = jwt.encode({**claims}, None, algorithm="none")
    with pytest.raises(Unauthenticated):
        signer.verify(unsigned)
    assert "k" * 10 not in repr(signer)


@pytest.mark.parametrize(
    "token", ["", "ä", "Ã¤", "a b", "\udc80", "x" * 100_000, "a.b.c", "..", "Bearer"]
)
def test_odd_token_strings_are_refused_not_crashed(token: str) -> None:
    for signer in (TokenSigner(KEY), TokenSigner(KEY, operator_token="op-" + "x" * 40)):
        with pytest.raises(Unauthenticated):
            signer.verify(token)
