import asyncio

import pytest

from voxa.context import SessionContext, current_session, maybe_current_session, session_scope


async def test_each_task_sees_only_its_own_session() -> None:
    seen: dict[str, list[str]] = {}

    async def work(sid: str) -> None:
        with session_scope(SessionContext(sid, "customer", "b", "acme", f"user-{sid}")):
            for _ in range(20):
                await asyncio.sleep(0)
                seen.setdefault(sid, []).append(current_session().session_id)

    await asyncio.gather(*(work(f"s{i}") for i in range(50)))
    assert all(set(v) == {k} for k, v in seen.items())
    assert maybe_current_session() is None


def test_no_session_outside_a_scope() -> None:
    with pytest.raises(LookupError):
        current_session()
