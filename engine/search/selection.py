"""Parent selection that keeps diversity: epsilon-lexicase over cases and an elite archive.

Lexicase (Helmuth & Spector): for each parent, shuffle the visible cases and filter the candidates
case by case, keeping those within epsilon of the best on that case; a specialist that alone solves
a case survives however poor its mean. Epsilon is the case's median absolute deviation (Spector's
semi-dynamic epsilon-lexicase), so partial output credit does not make every case decisive.

The archive is MAP-Elites with `per_niche` elites per niche. A niche is a behaviour descriptor
computed from the evaluation alone, so the engine knows no task: which visible cases pass, how its
loops behave over the cases (the reward's label from per-case iteration counts: unknown / no
loop ran / at most once / the same count >1 on every case / a count that varies between cases /
a count that grows with an input; engine/reward/loops.py), and a coarse length bucket.
Near-misses with a real loop then do not compete with loop-free formula fits for one slot, and
when the archive is full the niche evicted is the weakest of the most common loop behaviour, so
a rare behaviour (the only programs whose loops grow with the input) is never evicted for a
crowd of formula fits.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from engine.search.individual import Individual

LOOP_BUCKETS = ("unknown", "none", "once", "constant", "varies", "grows")


def _matrix(individuals: Sequence[Individual]) -> np.ndarray:
    """(P, C) case values; the score stands in as one case for programs without case results."""
    width = max((len(ind.cases) for ind in individuals), default=0)
    if width == 0:
        return np.array([[ind.score] for ind in individuals], dtype=np.float64)
    out = np.zeros((len(individuals), width), dtype=np.float64)
    for i, ind in enumerate(individuals):
        if ind.cases:
            out[i, : len(ind.cases)] = ind.cases
    return out


def lexicase_select(
    individuals: Sequence[Individual], k: int, rng: random.Random, epsilon: bool = True
) -> list[int]:
    """Indices of `k` parents chosen by (epsilon-)lexicase over the individuals' case vectors."""
    if not individuals:
        return []
    m = _matrix(individuals)
    P, C = m.shape
    if epsilon:
        eps = np.median(np.abs(m - np.median(m, axis=0)), axis=0)
    else:
        eps = np.zeros(C)
    picks: list[int] = []
    order = list(range(C))
    for _ in range(k):
        rng.shuffle(order)
        cand = np.arange(P)
        for c in order:
            col = m[cand, c]
            cand = cand[col >= col.max() - eps[c]]
            if len(cand) == 1:
                break
        picks.append(int(cand[rng.randrange(len(cand))]))
    return picks


def tournament_select(
    individuals: Sequence[Individual], k: int, rng: random.Random, size: int = 4
) -> list[int]:
    """Indices of `k` parents, each the best score of `size` random entrants (the baseline)."""
    if not individuals:
        return []
    P = len(individuals)
    return [
        max((rng.randrange(P) for _ in range(size)), key=lambda i: individuals[i].score)
        for _ in range(k)
    ]


def loop_bucket(iterations: Sequence[int | None] | None) -> str:
    """How a program's loops behave over the visible cases, from summed counts alone (no
    "grows": that needs the inputs; the reward's label has it)."""
    if iterations is None:
        return "unknown"
    iterations = [i for i in iterations if i is not None]
    if not iterations:
        return "unknown"
    hi = max(iterations)
    if hi == 0:
        return "none"
    if hi == 1:
        return "once"
    if min(iterations) == hi:
        return "constant"
    return "varies"


def descriptor(ind: Individual, length_bucket: int = 8) -> tuple:
    """Behaviour niche of an evaluated individual: (cases passed, loop bucket, length bucket)."""
    passed = tuple(c >= 1.0 for c in ind.cases)
    e = ind.eval
    if e is not None and e.loop is not None:
        loop = e.loop if e.loop in LOOP_BUCKETS else "unknown"
    else:
        loop = loop_bucket(e.iterations if e is not None else None)
    return passed, loop, len(ind.tokens) // max(1, length_bucket)


class EliteArchive:
    """MAP-Elites archive: the best `per_niche` distinct programs of each behaviour niche."""

    def __init__(
        self,
        per_niche: int = 4,
        max_niches: int = 512,
        length_bucket: int = 8,
        by_loop: bool = True,
    ):
        self.per_niche, self.max_niches, self.length_bucket = per_niche, max_niches, length_bucket
        self.by_loop = by_loop  # sample a loop behaviour first (see `sample`)
        self.niches: dict[tuple, list[Individual]] = {}

    def add(self, ind: Individual) -> bool:
        """Offer an evaluated individual; True if it was kept."""
        if ind.eval is None:
            return False
        key = descriptor(ind, self.length_bucket)
        elites = self.niches.setdefault(key, [])
        if any(e.tokens == ind.tokens for e in elites):
            return False
        if len(elites) >= self.per_niche:
            worst = min(range(len(elites)), key=lambda i: (elites[i].score, -len(elites[i].tokens)))
            w = elites[worst]
            if (ind.score, -len(ind.tokens)) <= (w.score, -len(w.tokens)):
                return False
            elites[worst] = ind
        else:
            elites.append(ind)
        if len(self.niches) > self.max_niches:
            weakest = self._victim()
            del self.niches[weakest]
            return weakest != key
        return True

    def _victim(self) -> tuple:
        """The niche to evict: the weakest among those of the most common loop behaviour."""
        by_loop: dict[str, list[tuple]] = {}
        for k in self.niches:
            by_loop.setdefault(k[1], []).append(k)
        crowd = max(by_loop.values(), key=len)
        return min(crowd, key=lambda k: max(e.score for e in self.niches[k]))

    def sample(self, k: int, rng: random.Random) -> list[Individual]:
        """`k` elites: a uniform niche, then a uniform elite within it (rare niches get a say).

        With `by_loop`, a uniform loop behaviour first, then a uniform niche of it: the few
        niches whose loops grow with the input are drawn as often as the hundreds of loop-free
        ones (each behaviour gets 1/B of the archive's parents)."""
        keys = list(self.niches)
        if not keys:
            return []
        groups: list[list[tuple]] = [keys]
        if self.by_loop:
            by: dict[str, list[tuple]] = {}
            for key in keys:
                by.setdefault(key[1], []).append(key)
            groups = list(by.values())
        out = []
        for _ in range(k):
            group = groups[rng.randrange(len(groups))]
            elites = self.niches[group[rng.randrange(len(group))]]
            out.append(elites[rng.randrange(len(elites))])
        return out

    def individuals(self) -> list[Individual]:
        return [e for elites in self.niches.values() for e in elites]

    def __len__(self) -> int:
        return len(self.niches)
