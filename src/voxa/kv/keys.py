"""The cache keys one session owns. Nothing else formats them."""

from __future__ import annotations


def session_key(session_id: str) -> str:
    return f"session:{session_id}"


def config_key(session_id: str) -> str:
    return f"session:{session_id}:config"


def agent_pid_key(session_id: str) -> str:
    return f"agent:{session_id}:pid"


def conversation_key(session_id: str) -> str:
    return f"conversation:{session_id}"


def all_session_keys(session_id: str) -> tuple[str, str, str, str]:
    return (
        session_key(session_id),
        config_key(session_id),
        agent_pid_key(session_id),
        conversation_key(session_id),
    )
