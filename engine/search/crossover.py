"""Crossover proposals: statements of one parent moved into another at statement boundaries.

Proposals are not validated here; `Mutator.crossover_many` replays them through the grammar.
"""

from __future__ import annotations

import random

from engine.search.spans import Span, boundaries


def propose(
    a, sa: list[Span], b, sb: list[Span], rng: random.Random
) -> tuple[list[int], str] | None:
    """One unvalidated crossover proposal: swap, graft or join statements of `a` and `b`."""
    kind = rng.choice(("swap", "graft", "join"))
    if kind == "swap":
        x, y = rng.choice(sa), rng.choice(sb)
        child = a[: x.start] + b[y.start : y.end] + a[x.end :]
    elif kind == "graft":
        p, _ = rng.choice(boundaries(sa))
        y = rng.choice(sb)
        child = a[:p] + b[y.start : y.end] + a[p:]
    else:
        child = _join(a, sa, b, sb, rng)
    return None if not child else (child, f"cross-{kind}")


def _join(
    a: list[int], sa: list[Span], b: list[int], sb: list[Span], rng: random.Random
) -> list[int] | None:
    """Head of `a` up to a statement boundary + tail of `b` from a boundary of the same depth."""
    cuts_a = [(s.start, s.depth) for s in sa] + [(len(a), 0)]
    cuts_b = [(s.start, s.depth) for s in sb] + [(len(b), 0)]
    pa, depth = rng.choice(cuts_a)
    same = [p for p, d in cuts_b if d == depth]
    if not same:
        return None
    return a[:pa] + b[rng.choice(same) :]
