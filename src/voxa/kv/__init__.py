"""Key-value store with TTLs: in-process by default, Redis in production."""

from voxa.kv.base import TTLStore
from voxa.kv.factory import create_store

__all__ = ["TTLStore", "create_store"]
