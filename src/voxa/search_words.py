"""The words of a search query worth matching (memories, knowledge, transcripts)."""

from __future__ import annotations

import re

_STOP = frozenset(
    "a an and are do does i is it me my of or the to what which who you your did was were be "
    "about know tell remember recall".split()
)


def search_words(query: str) -> list[str]:
    """The words of ``query`` worth searching for (no stop words, at most 12)."""
    words = [w for w in re.findall(r"[^\W_]+", query.lower()) if w not in _STOP]
    return list(dict.fromkeys(words))[:12]
