"""Donor statements for splices: a bounded pool of statements and block headers of good programs."""

from __future__ import annotations

import random
from collections.abc import Sequence

from engine.search.spans import statement_spans
from engine.tokenizer import Tokenizer


class StatementPool:
    """Bounded pool of statements and block headers cut from good programs (donors for splices)."""

    def __init__(self, tok: Tokenizer, capacity: int = 400):
        self.tok = tok
        self.capacity = capacity
        self.statements: dict[tuple[int, ...], float] = {}  # tokens -> best score of a source
        self.headers: dict[tuple[int, ...], float] = {}

    def add(self, body: Sequence[int], score: float) -> None:
        """Cut every statement (and compound header) of `body` into the pool."""
        body = list(body)
        for s in statement_spans(body, self.tok):
            self._put(self.statements, tuple(body[s.start : s.end]), score)
            if s.compound:
                self._put(self.headers, tuple(body[s.start : s.header_end]), score)

    def _put(self, table: dict[tuple[int, ...], float], key: tuple[int, ...], score: float) -> None:
        if table.get(key, float("-inf")) >= score:
            return
        table[key] = score
        if len(table) > self.capacity:  # drop the weakest quarter; amortised O(1) per add
            keep = sorted(table.items(), key=lambda kv: kv[1], reverse=True)[
                : self.capacity * 3 // 4
            ]
            table.clear()
            table.update(keep)

    def sample_statement(self, rng: random.Random) -> tuple[int, ...] | None:
        return _pick(self.statements, rng)

    def sample_header(self, rng: random.Random) -> tuple[int, ...] | None:
        return _pick(self.headers, rng)

    def __len__(self) -> int:
        return len(self.statements)


def _pick(table: dict[tuple[int, ...], float], rng: random.Random) -> tuple[int, ...] | None:
    # uniform over distinct entries: the pool is already filtered to good programs, and a
    # score-weighted pick would let one family crowd the donors (the diversity the GP needs)
    if not table:
        return None
    keys = list(table)
    return keys[rng.randrange(len(keys))]
