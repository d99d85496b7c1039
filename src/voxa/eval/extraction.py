"""Precision and recall of memory extraction over the labelled set
(``data/memory_extraction.jsonl``: one sentence per line with the facts it
states, as ``[category, key, value]``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

from voxa.agent.extract import extract_memories

Fact = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    kind: str
    facts: frozenset[Fact]


@dataclass
class ExtractionScore:
    sentences: int = 0
    expected: int = 0
    extracted: int = 0
    correct: int = 0
    wrong: list[tuple[str, Fact]] = field(default_factory=list)
    missed: list[tuple[str, Fact]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.extracted if self.extracted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 1.0

    def summary(self) -> str:
        return (f"memory extraction: {self.sentences} sentences, {self.expected} facts labelled, "
                f"{self.extracted} extracted, {self.correct} correct; precision "
                f"{self.precision:.1%}, recall {self.recall:.1%}")


def load_set() -> list[Labelled]:
    text = resources.files("voxa.eval").joinpath("data/memory_extraction.jsonl").read_text(
        encoding="utf-8")
    out = []
    for line in text.splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(Labelled(row["text"], row["kind"],
                                frozenset(tuple(f) for f in row["facts"])))  # type: ignore[misc]
    return out


def score(rows: list[Labelled]) -> ExtractionScore:
    s = ExtractionScore(sentences=len(rows))
    for row in rows:
        got = {(m.category, m.key, m.value) for m in extract_memories(row.text)}
        s.expected += len(row.facts)
        s.extracted += len(got)
        s.correct += len(got & row.facts)
        s.wrong += [(row.text, f) for f in sorted(got - row.facts)]
        s.missed += [(row.text, f) for f in sorted(row.facts - got)]
    return s
