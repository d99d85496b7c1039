"""One customer turn's knowledge block, for both channels (text turns build it
into the prompt; the voice agent adds it in ``on_user_turn_completed``)."""

from __future__ import annotations

from voxa import embeddings
from voxa.knowledge import store
from voxa.knowledge.brief import knowledge_brief
from voxa.runtime import Runtime
from voxa.settings import Settings
from voxa.storage.models import AgentSession
from voxa.storage.scope import Scope


async def by_meaning(settings: Settings, text: str) -> store.ByMeaning | None:
    """How to find passages by meaning for ``text``; None when embeddings are
    off or the offline model is not installed (words only)."""
    if not (settings.knowledge_embeddings and text.strip() and await embeddings.ready()):
        return None
    [vector] = await embeddings.embed([text])
    return store.ByMeaning(vector, settings.knowledge_min_similarity,
                           settings.knowledge_embedding_scan)


async def knowledge_for_turn(rt: Runtime, row: AgentSession, text: str) -> str | None:
    """The business's passages for a customer's message (``None``: not a customer)."""
    if row.role != "customer" or row.business_id is None:
        return None
    meaning = await by_meaning(rt.settings, text)
    async with rt.db() as db:
        found = await store.search(db, text, scope=Scope.user(row.user_id, row.business_id),
                                   limit=rt.settings.knowledge_passages_per_turn,
                                   meaning=meaning)
    return knowledge_brief(found)
