"""Migration 0011 on a database that already has knowledge: every existing
passage gets its embedding, full-text search still works (no table rebuild
dropped its triggers), and the passage is then found by meaning."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from tests.conftest import BACKENDS, PG_URL, _pg_admin
from voxa import embeddings
from voxa.knowledge import store
from voxa.knowledge.retrieval import by_meaning
from voxa.settings import build_settings
from voxa.storage.db import create_engine
from voxa.storage.migrate import migrate
from voxa.storage.scope import Scope

REFUNDS = "Refunds: we reimburse any order within 30 days of purchase."


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite+memory":
        e = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        yield e
        await e.dispose()
        return
    assert PG_URL
    name = f"voxa_m_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f"CREATE DATABASE {name}")
    e = create_engine(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    try:
        yield e
    finally:
        await e.dispose()
        await _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def test_existing_passages_get_embeddings(engine: AsyncEngine) -> None:
    await migrate(engine, "0010")
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO businesses (id, slug, name, status, allowed_origins, limits, created_at)"
            " VALUES ('b1', 'old-co', 'Old Co', 'active', '[]', '{}', CURRENT_TIMESTAMP)"))
        await conn.execute(text(
            "INSERT INTO knowledge_documents (id, business_id, title, kind, source, created_at,"
            " updated_at) VALUES ('d1', 'b1', 'Refunds', 'text', :src, CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP)"), {"src": REFUNDS})
        for i, passage in enumerate(["Refunds", REFUNDS]):
            await conn.execute(text(
                "INSERT INTO knowledge_passages (business_id, document_id, ordinal, text)"
                " VALUES ('b1', 'd1', :i, :t)"), {"i": i, "t": passage})
    await migrate(engine)
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT text, embedding FROM knowledge_passages ORDER BY ordinal"))).all()
    assert len(rows) == 2 and all(r.embedding is not None for r in rows)
    stored = embeddings.from_bytes(rows[1].embedding)
    assert np.allclose(stored, embeddings.embed_now([REFUNDS])[0], atol=1e-5)

    db = async_sessionmaker(engine, expire_on_commit=False)
    scope = Scope.business("b1")
    async with db() as session:
        # by words: the full-text index still answers
        words = await store.search(session, "reimburse", scope=scope)
        assert [p.text for p, _ in words][:1] == [REFUNDS]
        # by meaning: a question sharing no word with it
        meaning = await by_meaning(build_settings(env="test"), "can I get my money back")
        assert meaning is not None
        found = await store.search(session, "can I get my money back", scope=scope,
                                   meaning=meaning)
        assert found and found[0][1] == "Refunds"
