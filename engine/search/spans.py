"""Statement structure of a token-id program: where statements and blocks start and end.

Programs written under the grammar are layout-explicit: a simple statement ends with NEWLINE, a
compound one is `header ':' NEWLINE INDENT body DEDENT` (an `if` may carry `elif`/`else` clauses),
and a `def` has the same shape. INDENT/DEDENT are relative, so any statement's token span is
self-contained and can be moved to another statement boundary of any depth.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.tokenizer import Tokenizer

_BLOCK_WORDS = ("if", "for", "while", "def")


@dataclass(frozen=True)
class Span:
    """One statement: tokens[start:end], in block `block` at nesting `depth`."""

    start: int
    end: int
    depth: int
    block: int  # statements with the same block id are siblings, in order
    header_end: int  # index just after the header's ':' (== start for a simple statement)
    body_blocks: tuple[int, ...] = ()  # block ids of its clauses' bodies

    @property
    def compound(self) -> bool:
        return self.header_end > self.start


class _Malformed(Exception):
    pass


def statement_spans(tokens: list[int], tok: Tokenizer) -> list[Span]:
    """All statements of `tokens` (no EOS) in source order; [] if the layout is not well formed."""
    ix = tok.index
    colon, newline, indent, dedent = ix[":"], tok.newline, tok.indent, tok.dedent
    block_ids = {ix[w] for w in _BLOCK_WORDS}
    clause_ids = {ix["elif"], ix["else"]}
    spans: list[Span] = []
    n = len(tokens)
    next_block = [0]

    def expect(i: int, want: int) -> None:
        if i >= n or tokens[i] != want:
            raise _Malformed

    def suite(i: int, depth: int) -> tuple[int, int]:
        """Parse ':' NEWLINE INDENT body DEDENT starting at the ':'; return (end, body block id)."""
        expect(i, colon)
        expect(i + 1, newline)
        expect(i + 2, indent)
        bid = next_block[0]
        next_block[0] += 1
        j = block(i + 3, depth + 1, bid)
        expect(j, dedent)
        return j + 1, bid

    def statement(i: int, depth: int, bid: int) -> int:
        t = tokens[i]
        if t in block_ids:
            j = i
            while j < n and tokens[j] != colon:
                j += 1
            header_end = j + 1
            slot = len(spans)
            spans.append(Span(i, i, depth, bid, header_end))  # placeholder keeps source order
            k, body = suite(j, depth)
            bodies = [body]
            if t == ix["if"]:
                while k < n and tokens[k] in clause_ids:
                    j = k
                    while j < n and tokens[j] != colon:
                        j += 1
                    k, body = suite(j, depth)
                    bodies.append(body)
            spans[slot] = Span(i, k, depth, bid, header_end, tuple(bodies))
            return k
        j = i
        while j < n and tokens[j] != newline:
            if tokens[j] in (indent, dedent):
                raise _Malformed
            j += 1
        expect(j, newline)
        spans.append(Span(i, j + 1, depth, bid, i))
        return j + 1

    def block(i: int, depth: int, bid: int) -> int:
        start = i
        while i < n and tokens[i] != dedent:
            i = statement(i, depth, bid)
        if i == start:
            raise _Malformed  # an empty block
        return i

    try:
        next_block[0] = 1
        end = block(0, 0, 0)
        if end != n:
            raise _Malformed
    except _Malformed:
        return []
    return spans


def boundaries(spans: list[Span]) -> list[tuple[int, int]]:
    """(token index, block id) of every place a statement may be inserted (before or after one)."""
    out: set[tuple[int, int]] = set()
    for s in spans:
        out.add((s.start, s.block))
        out.add((s.end, s.block))
    return sorted(out)
