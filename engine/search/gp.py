"""Neural-guided genetic programming step (Mundhenk et al. 2021): a few generations per train step.

The trainer hands over its batch and priority queue as evaluated `Individual`s; the step breeds
`generations` x `children` new programs by grammar-valid mutation and crossover, evaluates them in
one batched call per generation, selects parents by lexicase (or tournament) from the survivors and
an elite archive that persists across steps, and returns the best new children for the priority
queue and the training batch. Evaluations are cached by token sequence (bounded), so a program is
never scored twice while it is remembered.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from engine.grammar import Grammar
from engine.search.individual import Eval, Individual
from engine.search.mutation import Chooser, MutationConfig, Mutator, StatementPool
from engine.search.selection import EliteArchive, lexicase_select, tournament_select
from engine.tokenizer import Tokenizer

Evaluate = Callable[[list[list[int]]], list[Eval]]
SELECTIONS = ("lexicase", "tournament")


@dataclass
class GPConfig:
    """Settings of one GP step (each piece a switch)."""

    generations: int = 3  # generations bred per call of `run`
    children: int = 64  # new programs proposed per generation
    crossover_rate: float = 0.2  # share of children made by crossover (the rest by mutation)
    selection: str = "lexicase"  # "lexicase" | "tournament"
    tournament: int = 4  # entrants per tournament (selection="tournament")
    population: int = 256  # survivors kept between generations
    archive: bool = True  # keep a MAP-Elites archive across calls and draw parents from it
    archive_share: float = 0.3  # share of parents drawn from the archive
    per_niche: int = 4  # elites per archive niche
    max_niches: int = 512  # archive size bound (niches)
    loop_parents: bool = True  # archive parents: a loop behaviour first, then a niche of it
    donors: bool = True  # splice statements from good programs (a StatementPool)
    donor_capacity: int = 400  # statements kept in the pool
    return_best: int = 16  # new children handed back per call
    cache_size: int = 50_000  # remembered evaluations (token sequence -> Eval)
    mutation: MutationConfig = field(default_factory=MutationConfig)

    def check(self) -> None:
        """Raise ValueError naming the field for settings the step cannot run with."""
        if self.selection not in SELECTIONS:
            raise ValueError(f"gp.selection: {self.selection!r}, allowed: {', '.join(SELECTIONS)}")
        for name in ("generations", "children", "population", "per_niche", "max_niches"):
            if getattr(self, name) < 1:
                raise ValueError(f"gp.{name}: must be >= 1")
        for name in ("crossover_rate", "archive_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"gp.{name}: must be within [0, 1]")


class GPStep:
    """Breeds new programs from an evaluated population; state (archive, donors, cache) persists."""

    def __init__(
        self,
        grammar: Grammar,
        tokenizer: Tokenizer,
        config: GPConfig | None = None,
        budget: int = 33,
        chooser: Chooser | None = None,
    ):
        self.cfg = config or GPConfig()
        self.cfg.check()
        self.tok = tokenizer
        self.mutator = Mutator(grammar, budget, chooser, self.cfg.mutation)
        self.archive = EliteArchive(
            self.cfg.per_niche, self.cfg.max_niches, by_loop=self.cfg.loop_parents
        )
        self.pool = StatementPool(tokenizer, self.cfg.donor_capacity)
        self._cache: OrderedDict[tuple[int, ...], Eval] = OrderedDict()
        self.stats: dict[str, float] = {
            "evaluated": 0, "proposed": 0, "failed": 0, "duplicates": 0, "calls": 0,
        }  # fmt: skip

    # -- public -----------------------------------------------------------------------------------

    def run(
        self, population: Sequence[Individual], evaluate: Evaluate, rng: random.Random
    ) -> list[Individual]:
        """Breed from `population` (evaluated); return up to `return_best` best new children.

        `evaluate` gets a list of token sequences (ending with EOS) and returns one `Eval` each,
        in order; it is called at most once per generation, never with a remembered program.
        """
        cfg = self.cfg
        self.stats["calls"] += 1
        pop = self._dedupe([ind for ind in population if ind.eval is not None])
        for ind in pop:
            self._remember(ind.tokens, ind.eval)
        self._absorb(pop)
        born: dict[tuple[int, ...], Individual] = {}
        start = {ind.tokens for ind in pop}
        for _ in range(cfg.generations):
            if not pop and not len(self.archive):
                break
            children = self._breed(pop, rng)
            # take remembered results first: remembering the fresh ones may evict them (LRU)
            for c in children:
                known = self._cache.get(c.tokens)
                if known is not None:
                    c.eval = known
                    self._cache.move_to_end(c.tokens)
            fresh = [c for c in children if c.eval is None]
            if fresh:
                evals = evaluate([list(c.tokens) for c in fresh])
                if len(evals) != len(fresh):
                    raise ValueError(f"evaluate returned {len(evals)} results for {len(fresh)}")
                self.stats["evaluated"] += len(fresh)
                for c, e in zip(fresh, evals, strict=True):
                    c.eval = e
                    self._remember(c.tokens, e)
            for c in children:
                if c.tokens not in start:
                    born[c.tokens] = c
            self._absorb(children)
            pop = self._survivors(pop + children, rng)
        best = sorted(born.values(), key=lambda i: (-i.score, len(i.tokens)))
        return best[: cfg.return_best]

    def forget(self) -> None:
        """Drop remembered evaluations and the archive (after the reward changed, or a restart)."""
        self._cache.clear()
        self.archive = EliteArchive(
            self.cfg.per_niche, self.cfg.max_niches, by_loop=self.cfg.loop_parents
        )

    # -- internals --------------------------------------------------------------------------------

    def _dedupe(self, inds: Sequence[Individual]) -> list[Individual]:
        seen: dict[tuple[int, ...], Individual] = {}
        for ind in inds:
            t = tuple(ind.tokens)
            if t not in seen or ind.score > seen[t].score:
                seen[t] = ind if ind.tokens == t else Individual(t, ind.code, ind.eval, ind.origin)
        return list(seen.values())

    def _remember(self, tokens: tuple[int, ...], e: Eval | None) -> None:
        if e is None:
            return
        self._cache[tokens] = e
        self._cache.move_to_end(tokens)
        while len(self._cache) > self.cfg.cache_size:
            self._cache.popitem(last=False)

    def _absorb(self, inds: Sequence[Individual]) -> None:
        """Offer evaluated programs to the archive and their statements to the donor pool."""
        if not inds:
            return
        ranked = sorted(inds, key=lambda i: i.score, reverse=True)
        donors = {id(i) for i in ranked[: max(1, len(ranked) // 4)]}
        for ind in inds:
            if self.cfg.archive:
                self.archive.add(ind)
            # donors: the top quarter, and any program exact on some case (a specialist's parts)
            if self.cfg.donors and (id(ind) in donors or any(c >= 1.0 for c in ind.cases)):
                self.pool.add(self.mutator.body(ind.tokens), ind.score)

    def _parents(self, pop: list[Individual], k: int, rng: random.Random) -> list[Individual]:
        cfg = self.cfg
        n_arch = 0
        if cfg.archive and len(self.archive):
            n_arch = sum(rng.random() < cfg.archive_share for _ in range(k)) if pop else k
        out = self.archive.sample(n_arch, rng) if n_arch else []
        if pop and k > n_arch:
            if cfg.selection == "lexicase":
                idx = lexicase_select(pop, k - n_arch, rng)
            else:
                idx = tournament_select(pop, k - n_arch, rng, cfg.tournament)
            out += [pop[i] for i in idx]
        rng.shuffle(out)
        return out

    def _breed(self, pop: list[Individual], rng: random.Random) -> list[Individual]:
        cfg, m = self.cfg, self.mutator
        parents = self._parents(pop, 2 * cfg.children, rng)
        if not parents:
            return []
        pool = self.pool if cfg.donors else None
        cross, mut = [], []
        for j in range(cfg.children):
            a, b = parents[(2 * j) % len(parents)], parents[(2 * j + 1) % len(parents)]
            if rng.random() < cfg.crossover_rate and a.tokens != b.tokens:
                cross.append((a, b))
            else:
                mut.append(a)
        self.stats["proposed"] += cfg.children
        made = [
            (got, (hash(a.tokens), hash(b.tokens)))
            for (a, b), got in zip(
                cross, m.crossover_many([(a.tokens, b.tokens) for a, b in cross], rng), strict=True
            )
        ]
        made += [
            (got, (hash(a.tokens),))
            for a, got in zip(mut, m.mutate_many([a.tokens for a in mut], rng, pool), strict=True)
        ]
        out: dict[tuple[int, ...], Individual] = {}
        for got, ps in made:
            if got is None:
                self.stats["failed"] += 1
                continue
            body, op = got
            tokens = m.finish(body)
            if tokens in out:
                self.stats["duplicates"] += 1
                continue
            out[tokens] = Individual(tokens, self.tok.decode(body), None, op, ps)
        return list(out.values())

    def _survivors(self, inds: list[Individual], rng: random.Random) -> list[Individual]:
        """The best quarter by score, the rest by lexicase (distinct programs, bounded size)."""
        inds = self._dedupe(inds)
        n = self.cfg.population
        if len(inds) <= n:
            return inds
        ranked = sorted(inds, key=lambda i: (-i.score, len(i.tokens)))
        keep = ranked[: n // 4]
        rest = ranked[n // 4 :]
        chosen = {id(i) for i in keep}
        picks = lexicase_select(rest, 3 * n, rng) if self.cfg.selection == "lexicase" else []
        for i in picks:
            if len(keep) >= n:
                break
            if id(rest[i]) not in chosen:
                chosen.add(id(rest[i]))
                keep.append(rest[i])
        for ind in rest:  # top up by score when lexicase kept choosing the same few
            if len(keep) >= n:
                break
            if id(ind) not in chosen:
                chosen.add(id(ind))
                keep.append(ind)
        return keep
