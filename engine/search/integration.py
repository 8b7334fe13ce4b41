"""The search wired into the trainer: GP children each batch, and minimal solutions ([search]).

`SearchHook` is owned by a `Trainer` and called from `Trainer.step` at two points:

* `children(batch, codes, outcomes)` after the policy's batch was scored and recorded (every
  `search.every` batches when `search.gp` is on): the batch's programs and the priority queue seed
  a `GPStep` population; its generations are scored through the trainer's own path (program
  cache, `Trainer._score`, i.e. the reward on every case in one sandbox call per generation), and
  the best new children come back with their token rows, grammar masks (`Grammar.trace`, the same
  masks sampling applies) and outcomes, so the trainer records them (attempts, best, solution,
  priority queue) and trains on them exactly as scored.
* `minimise(code)` when a success is found (`search.minimise`): delta debugging on the AST with a
  batched `succeeds` that scores candidates with the trainer's reward on every case, hidden ones
  included (and the task's constraints), so the minimal program is still a success.

Per-case results for lexicase come from the reward's `ScoreResult.cases` (visible cases only),
remembered by program text in a bounded LRU filled by wrapping the scorer's `score_many` (so the
trainer's scoring code is untouched), together with the reward's loop label and per-case
iteration counts (`ScoreResult.loops` / `.iterations`, from counters the sandbox brings back:
engine/reward/loops.py) for the archive's niches. `search.loop_niches` switches the counting
on (the scorer's `count_loops`); `search.loop_credit` adds the reward's small credit for a loop
that grows with the input. Nothing here knows a task.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.languages import for_task
from engine.policy import Batch
from engine.search.chooser import PolicyChooser
from engine.search.gp import GPConfig, GPStep
from engine.search.individual import Eval, Individual

if TYPE_CHECKING:  # the trainer imports this module; avoid a cycle at run time
    from engine.reward.memo import Outcome
    from engine.trainer import Trainer


# visible case values, loop label, loop-body executions per visible case
_Noted = tuple[tuple[float, ...], str, tuple[int | None, ...] | None]


@dataclass
class Children:
    """GP children to record and train on: rows aligned with `codes`/`outcomes`."""

    codes: list[str]
    outcomes: list[Outcome]
    tokens: np.ndarray  # (R, T) int64, PAD after EOS
    masks: np.ndarray  # (R, T, V) bool, the grammar's masks along each program
    lengths: np.ndarray  # (R,) tokens including EOS
    evaluated: int  # programs the GP step scored (all count as attempts)
    fresh: int  # of those, programs never run before (not in the trainer's cache)


class SearchHook:
    """GP steps and solution minimisation for one trainer (see the module docstring)."""

    def __init__(self, trainer: Trainer, case_memory: int = 50_000) -> None:
        self.tr = trainer
        self.cfg = sc = trainer.config.search
        self.rng = random.Random(trainer.seed)
        self._batches = 0
        # program text -> (visible case values, loop label, iterations per visible case)
        self._cases: OrderedDict[str, _Noted] = OrderedDict()
        self._case_memory = case_memory
        self.stats: dict[str, float] = {
            "gp_steps": 0, "evaluated": 0, "fresh": 0, "returned": 0, "child_successes": 0,
            "seconds": 0.0, "minimise_seconds": 0.0,
        }  # fmt: skip
        self.gp: GPStep | None = None
        self.chooser: PolicyChooser | None = None
        # loop counters cost a little per program with a loop: only when something reads them
        scorer = trainer.scorer
        # `--algo random` is the uniform-random-search baseline: no GP breeding on top of it
        searching = sc.gp and trainer.learning and trainer.task.target_language == "python"
        counting = (searching and sc.loop_niches) or sc.loop_credit > 0
        if hasattr(scorer, "count_loops"):
            scorer.count_loops = counting  # before anything is scored: analyses are cached
        if sc.loop_credit and hasattr(scorer, "weights"):
            scorer.weights = replace(scorer.weights, loop_credit=sc.loop_credit)
        # mutation works on Python statement layout (newline/indent tokens); other languages'
        # tokenizers have no such layout yet, so they train on the policy alone
        if searching:
            if sc.policy_proposals:
                self.chooser = PolicyChooser(trainer.policy, trainer.tok.sos)
            gp_cfg = GPConfig(
                generations=sc.generations, children=sc.children, return_best=sc.return_best,
                selection=sc.selection, archive=sc.archive, crossover_rate=sc.crossover_rate,
                loop_parents=sc.loop_niches,
            )  # fmt: skip
            self.gp = GPStep(trainer.grammar, trainer.tok, gp_cfg, trainer.max_len, self.chooser)
            self._wrap(trainer.scorer)

    # -- per-case memory --------------------------------------------------------------------------

    def _wrap(self, scorer: Any) -> None:
        """Remember each scored program's visible-case results (for lexicase) as it is scored."""
        inner = scorer.score_many

        def score_many(codes: list[str], runner: Any, lengths: Any = None) -> list:
            results = inner(codes, runner, lengths)
            for code, r in zip(codes, results, strict=True):
                cases = tuple(float(c.passed) for c in r.cases if not c.hidden)
                loop = getattr(r, "loops", "unknown")
                self._note(code, (cases, loop, getattr(r, "iterations", None)))
            return results

        scorer.score_many = score_many

    def _eval(self, code: str, score: float, success: bool) -> Eval | None:
        """The Eval of a scored program from what its scoring left (None if forgotten)."""
        noted = self._cases.get(code)
        if noted is None:
            return None
        cases, loop, iterations = noted
        return Eval(score, cases, success, iterations, loop)

    def _note(self, code: str, cases: _Noted) -> None:
        mem = self._cases
        mem[code] = cases
        mem.move_to_end(code)
        while len(mem) > self._case_memory:
            mem.popitem(last=False)

    # -- GP ---------------------------------------------------------------------------------------

    def due(self) -> bool:
        """Whether this batch gets a GP step (counts batches)."""
        if self.gp is None:
            return False
        self._batches += 1
        return self._batches % self.cfg.every == 0

    def children(
        self, batch: Batch, codes: list[str], outcomes: list[Outcome], limit: int | None = None
    ) -> Children | None:
        """Run one GP step seeded by the batch and the priority queue; None if nothing new.

        `limit`: programs the step may score (an exact attempt budget's remainder): the step runs
        only as many whole generations as fit, none if not one does."""
        assert self.gp is not None
        gp_cfg = self.gp.cfg
        generations = self.cfg.generations
        if limit is not None:
            generations = min(generations, max(0, limit) // gp_cfg.children)
            if generations == 0:
                return None
        t0 = time.perf_counter()
        tr = self.tr
        if self.chooser is not None:
            self.chooser.refresh()  # the weights changed since the last step
        pop: list[Individual] = []
        seen: set[str] = set()
        lengths = batch.lengths.tolist()
        for i, (code, o) in enumerate(zip(codes, outcomes, strict=True)):
            e = self._eval(code, o.score, o.success)
            if e is None or code in seen:
                continue
            seen.add(code)
            toks = tuple(batch.tokens[i, : lengths[i]].tolist())
            pop.append(Individual(toks, code, e, "policy"))
        for reward, code, toks in tr.pq:
            e = self._eval(code, reward, False)
            if e is None or code in seen:
                continue
            seen.add(code)
            pop.append(Individual(tuple(toks), code, e, "queue"))
        counts = {"evaluated": 0, "fresh": 0}
        outcome_of: dict[str, Outcome] = {}

        def evaluate(seqs: list[list[int]]) -> list[Eval]:
            found = [tr.tok.decode(s) for s in seqs]
            fresh = tr._fresh(found)
            n_of = {c: len(s) for c, s in zip(found, seqs, strict=True)}
            scored = tr._score(fresh, [n_of[c] for c in fresh])
            for c, o in zip(fresh, scored, strict=True):
                tr.cache.put(c, o)
                outcome_of[c] = o
            counts["evaluated"] += len(seqs)
            counts["fresh"] += len(fresh)
            out = []
            for c in found:
                o = outcome_of.get(c) or tr.cache.get(c)
                assert o is not None
                outcome_of[c] = o
                out.append(self._eval(c, o.score, o.success) or Eval(o.score, (), o.success))
            return out

        gp_cfg.generations = generations
        try:
            kids = self.gp.run(pop, evaluate, self.rng)
        finally:
            gp_cfg.generations = self.cfg.generations
        st = self.stats
        st["gp_steps"] += 1
        st["evaluated"] += counts["evaluated"]
        st["fresh"] += counts["fresh"]
        st["seconds"] += time.perf_counter() - t0
        kids = [k for k in kids if k.code not in seen and k.code in outcome_of]
        if not kids and not counts["evaluated"]:
            return None
        rows = [(k, _masks(tr, k.tokens)) for k in kids]
        rows = [(k, m) for k, m in rows if m is not None]
        st["returned"] += len(rows)
        st["child_successes"] += sum(k.success for k, _ in rows)
        T = max([batch.tokens.shape[1]] + [len(k.tokens) for k, _ in rows])
        V = tr.grammar.vocab_size
        R = len(rows)
        tokens = np.full((R, T), tr.tok.pad, dtype=np.int64)
        masks = np.zeros((R, T, V), dtype=bool)
        lens = np.zeros(R, dtype=np.int64)
        for j, (k, m) in enumerate(rows):
            L = len(k.tokens)
            tokens[j, :L] = k.tokens
            masks[j, :L] = m
            masks[j, L:, tr.tok.pad] = True
            lens[j] = L
        return Children(
            codes=[k.code for k, _ in rows], outcomes=[outcome_of[k.code] for k, _ in rows],
            tokens=tokens, masks=masks, lengths=lens,
            evaluated=counts["evaluated"], fresh=counts["fresh"],
        )  # fmt: skip

    # -- minimal solutions ------------------------------------------------------------------------

    def minimise(self, code: str) -> str:
        """The 1-minimal reduction of a successful `code` that is still a success (the reward's
        verdict on every case, hidden ones included; constraints still met)."""
        t0 = time.perf_counter()
        scorer, run_many = self.tr.scorer, self.tr.run_many

        def succeeds(codes: list[str]) -> list[bool]:
            return [bool(r.success) for r in scorer.score_many(codes, run_many, None)]

        try:  # each language minimises on its own tree (the plug-in's `minimise`)
            return str(for_task(self.tr.task).minimise(code, succeeds))
        finally:
            self.stats["minimise_seconds"] += time.perf_counter() - t0


def _masks(tr: Trainer, seq: tuple[int, ...]) -> np.ndarray | None:
    """(len(seq), V) masks the grammar applies along `seq` (as sampling did), None if invalid."""
    states, ok = tr.grammar.trace(list(seq), tr.max_len)
    if not ok:
        return None
    rem = np.arange(tr.max_len, tr.max_len - len(seq), -1)
    return tr.grammar.mask(np.array(states), rem)


def extend_batch(
    batch: Batch, rewards: np.ndarray, kids: Children, pad: int
) -> tuple[Batch, np.ndarray]:
    """The batch with GP children appended as rows (their grammar masks, nothing forced) and
    their rewards (the reward's scores, as recorded)."""
    B, T = batch.tokens.shape
    R, Tk = kids.tokens.shape
    Tn = max(T, Tk)

    def widen(tok: np.ndarray, msk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = tok.shape[1]
        if t == Tn:
            return tok, msk
        tok = np.concatenate([tok, np.full((len(tok), Tn - t), pad, dtype=tok.dtype)], 1)
        extra = np.zeros((len(msk), Tn - t, msk.shape[2]), dtype=bool)
        extra[:, :, pad] = True
        return tok, np.concatenate([msk, extra], 1)

    bt, bm = widen(batch.tokens, batch.masks)
    kt, km = widen(kids.tokens, kids.masks)
    forced = np.zeros((B + R, Tn), dtype=bool)
    forced[:B, :T] = batch.forced
    return (
        Batch(
            tokens=np.concatenate([bt, kt]), masks=np.concatenate([bm, km]), forced=forced,
            lengths=np.concatenate([batch.lengths, kids.lengths]), first_probs=batch.first_probs,
        ),
        np.concatenate([rewards, np.array([o.score for o in kids.outcomes], dtype=np.float64)]),
    )  # fmt: skip
