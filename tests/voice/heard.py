"""Judging speech recognition the way a caller would: did the agent get what
was meant, not did it spell every word the same way.

Whisper tiny.en hears the synthetic Piper voice through the room's audio path
a little differently from the clean file ("Do you sell bread?" comes out as
"Do you so, Brad?"), and more so on a loaded machine. A test that compares one
exact transcript fails on spelling; a test that accepts anything proves
nothing. So every voice test judges a transcript by the words that carry its
meaning (``key``: all must be heard, case and punctuation aside, a plural or
past tense counting as the word) or, when none are named, by the word error
rate against what was said."""

from __future__ import annotations

import re

# Words whose loss never changes what a caller asked.
FILLER = frozenset("""a an the is are am be do does did you your yours i me my we our us it its
to of for in on at and or but please can could would will what when where how tell about
have has there this that so""".split())
MAX_WORD_ERROR = 0.34  # at most one word in three misheard


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'"))


def word_error_rate(said: str, heard: str) -> float:
    """Word-level edit distance over the number of words said."""
    ref, hyp = words(said), words(heard)
    if not ref:
        return 0.0 if not hyp else 1.0
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / len(ref)


def _same_word(a: str, b: str) -> bool:
    return a == b or a.rstrip("s") == b.rstrip("s") or a.removesuffix("ed") == b.removesuffix("ed")


def meaning_words(said: str) -> list[str]:
    return [w for w in words(said) if w not in FILLER]


def heard_as_meant(said: str, heard: str, *, key: list[str] | None = None,
                   max_error: float = MAX_WORD_ERROR) -> bool:
    """``heard`` carries what ``said`` meant: every key word (by default the
    words that are not filler) was heard, or the word error rate is within
    ``max_error``."""
    got = words(heard)
    wanted = key if key is not None else meaning_words(said)
    if wanted and all(any(_same_word(w, g) for g in got) for w in wanted):
        return True
    return word_error_rate(said, heard) <= max_error


def heard_in(word: str, text: str) -> bool:
    """``word`` (a meaning-carrying word) occurs in ``text``, as a word."""
    return any(_same_word(word.lower(), g) for g in words(text))
