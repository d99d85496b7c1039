"""Rate limits and quotas: every public entry point has one, and
every one holds across API processes (Redis when configured)."""

from voxa.limits.address import client_address
from voxa.limits.limiter import Limiter
from voxa.limits.model_line import ModelLine, ModelSlot

__all__ = ["Limiter", "ModelLine", "ModelSlot", "client_address"]
