"""Deterministic user ids and server-issued customer ids.

A user id is ``uuid5`` of a *verified* identity string: an account's e-mail
(verified by its password) or a customer id the server issued and signed. An
unverified e-mail is never turned into a user id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

from voxa.errors import InvalidInput

# Fixed namespace: changing it would re-key every user's memories.
VOXA_NAMESPACE = uuid.UUID("6f1c2a56-9d0e-5b1a-8c3e-7a1f4b2d9e60")


def user_id_for(identity: str) -> str:
    return str(uuid.uuid5(VOXA_NAMESPACE, identity))


def account_identity(email: str) -> str:
    return f"account:{normalize_email(email)}"


def customer_identity(business_id: str, customer_id: str) -> str:
    return f"customer:{business_id}:{customer_id}"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _customer_sig(secret: str, business_id: str, nonce: str) -> str:
    mac = hmac.new(secret.encode(), f"customer:{business_id}:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:12]).decode().rstrip("=")


def issue_customer_id(secret: str, business_id: str) -> str:
    """A new customer id: 128 random bits, signed and bound to the business."""
    nonce = secrets.token_urlsafe(16)
    return f"cus_{nonce}.{_customer_sig(secret, business_id, nonce)}"


def verify_customer_id(secret: str, business_id: str, customer_id: str) -> str:
    """Return ``customer_id`` if the server issued it for this business."""
    if not customer_id.startswith("cus_") or "." not in customer_id or len(customer_id) > 80:
        raise InvalidInput("customer_id is malformed", code="invalid_customer_id")
    nonce, sig = customer_id[4:].rsplit(".", 1)
    if not hmac.compare_digest(sig, _customer_sig(secret, business_id, nonce)):
        raise InvalidInput(
            "customer_id was not issued for this business", code="invalid_customer_id"
        )
    return customer_id
