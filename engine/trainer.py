"""The learner: sample a batch, run and score it, compute advantages and losses, step. Top to bottom.

REINFORCE with an EMA baseline (or risk-seeking selection of the batch's top quantile against its
quantile), entropy bonus, reward normalisation, gradient clipping, a plateau learning-rate schedule,
priority-queue training on the best unique programs found so far, and a program cache so no program
text runs twice. Every piece is a switch in `TrainConfig`, so they can be compared.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch

from engine.config import Config
from engine.fingerprint import ExplorationBoost, ShapeMemory, TokenShapes, text_fingerprint
from engine.health import (
    HealthMonitor,
    apply_health_actions,
    grad_norms,
    initialise,
    uniform_expectation,
)
from engine.languages import for_task
from engine.memory import tune_allocator
from engine.optim import Adam
from engine.policy import Batch, Policy, sample_batch, sequence_logprobs
from engine.reward import ScoreWeights, with_repetition
from engine.reward.memo import Outcome, ProgramCache
from engine.search.integration import Children, SearchHook, extend_batch
from engine.tasks import Task

__all__ = ["BatchStats", "Outcome", "Trainer"]

TIMING = ("sample", "execute", "analyse", "learn", "other", "search")


@dataclass
class BatchStats:
    """One batch's numbers, for the snapshot, the run store and the progress bar."""

    batch: int
    attempts: int  # total so far this run
    size: int
    new_programs: int
    duplicates: int
    score_mean: float
    score_max: float
    successes: int
    loss: float
    entropy: float
    grad_norm: float
    lr: float
    seconds: float
    sample_code: str
    sample: Outcome | None
    sample_tokens: list[tuple[int, float, list[tuple[int, float]]]] = field(default_factory=list)
    solved_now: bool = False
    hint_rows: int = 0
    penalty_mean: float = 0.0  # mean repetition penalty of the batch
    sample_penalty: float = 0.0  # repetition penalty of the sample shown
    repeat_share: float = 0.0  # share of repeated programs (text or failing shape)
    boost: float = 0.0  # extra entropy weight in force


class Trainer:
    """Owns the policy, optimiser and all learning state of one task."""

    def __init__(
        self,
        config: Config,
        task: Task,
        run_many: Callable[[list[str]], list],
        seed: int | None = None,
    ) -> None:
        self.config, self.task, self.run_many = config, task, run_many
        tc = config.train
        self.seed = tc.seed if seed is None else seed
        tune_allocator()  # before the big allocations: keeps RSS flat over long runs
        torch.set_num_threads(max(1, tc.torch_threads))
        lang = for_task(task)  # language plug-in: Python's own classes for Python tasks
        self.tok = lang.Tokenizer.for_task(task)
        self.grammar = lang.Grammar(self.tok, config.grammar.max_depth, config.grammar.max_names)
        self.max_len = (config.grammar.max_tokens or task.max_tokens) + 1  # program tokens + EOS
        # The reward (engine/reward) computes every term trained on, the length term included.
        self.scorer = lang.Scorer(task, ScoreWeights(length=tc.length_penalty))
        self.generator = torch.Generator().manual_seed(self.seed)
        torch.manual_seed(self.seed)
        self.policy = Policy(len(self.tok), tc.embed_size, tc.hidden_size, tc.num_layers)
        self.init_method = tc.init_method
        # model health (engine/health/): checked init with retries, runtime monitor
        self.init_report = initialise(
            self.policy, self.init_method, self.generator, self.grammar, self.max_len
        )
        self.init_method = self.init_report.method_used
        self.optimizer = Adam(self.policy.parameters(), lr=tc.lr)
        self.lr = tc.lr
        self.health = HealthMonitor()
        self.health.reset(self.policy, self.optimizer)
        self.health_events: list = []  # HealthEvents of the latest step; the Engine emits them
        self.learning = tc.algo != "random"
        # learning state
        self.baseline = 0.0
        self.reward_var = 1.0
        self.pq: list[tuple[float, str, tuple[int, ...]]] = []  # min-heap of (reward, code, tokens)
        self.pq_codes: set[str] = set()
        self.cache = ProgramCache(tc.cache_size)
        self.token_shapes = TokenShapes(self.tok.tokens)
        self.best_reward_seen = -1.0
        self.plateau_batches = 0
        # counters
        self.batches = 0
        self.attempts = 0
        self.unique_programs = 0
        self.duplicates = 0
        self.successes = 0
        self.errors_by_type: dict[str, int] = {}
        self.token_counts = np.zeros(len(self.tok), dtype=np.int64)
        self.pair_counts = np.zeros(len(self.tok) * len(self.tok), dtype=np.int64)
        self.allowed_counts = np.zeros(len(self.tok), dtype=np.float64)
        self.best_score = 0.0
        self.best_code = ""
        self.solution: str | None = None  # minimal when [search] minimise is on
        self.solution_raw: str | None = None  # the success as found (before minimising)
        # successes shorter than the solution, found while training on after the solve (the
        # engine drains them and keeps the shortest as the new solution); bounded
        self.shorter: list[str] = []
        self.attempts_to_solve: int | None = None
        self.prior_attempts = 0  # attempts of earlier runs on this task (from a checkpoint)
        self.timing = dict.fromkeys(TIMING, 0.0)  # seconds per part of a batch, cumulative
        self._executor: ThreadPoolExecutor | None = None
        self._pending: tuple[Batch, np.ndarray] | None = None  # scored, not yet learned from
        self._pq_cache: dict[str, np.ndarray | None] = {}  # grammar masks of queued programs
        ec = config.explore
        self.shapes = ShapeMemory(
            ec.shape_penalty, ec.shape_penalty_max, ec.shape_free_repeats, ec.memory_size
        )
        self.explore = ExplorationBoost(
            ec.boost_threshold, ec.boost_window, ec.boost_entropy, ec.boost_batches
        )
        self.events: list[str] = []  # notable things since the engine last looked (it drains them)
        # search beside the policy: GP children, minimal solutions (engine/search/integration.py)
        self.search = SearchHook(self)

    # -- the loop body ----------------------------------------------------------------------------

    def step(
        self,
        hint: list[int] | None = None,
        hint_rows: int = 0,
        entropy_boost: float = 0.0,
        size: int | None = None,
        budget_left: int | None = None,
    ) -> BatchStats:
        """One batch: sample, execute and score, learn.

        With `train.pipeline` (off by default: measured no faster, the scoring is GIL-bound) the
        batch is scored in a thread while the learner updates on the previous batch, which makes
        updates one batch off-policy. `size` cuts this batch (exact attempt budgets).
        """
        t0 = time.perf_counter()
        tc = self.config.train
        B = tc.batch_size if size is None else max(1, min(size, tc.batch_size))

        # 1. sample under the syntax masks
        self.grammar.maybe_reset(self.config.grammar.max_states)
        batch = sample_batch(
            self.policy if self.learning else None, self.grammar, B, self.max_len, self.generator,
            temperature=tc.temperature, prefix=hint, prefix_rows=hint_rows if hint else 0,
        )  # fmt: skip
        codes = [self.tok.decode(row) for row in batch.tokens.tolist()]
        t1 = time.perf_counter()

        # 2. execute and score programs not seen before (meanwhile, learn from the last batch)
        fresh = self._fresh(codes)
        shown = codes[0]
        if shown not in fresh and not self.cache.has_detail(shown):
            extra = [shown]  # a duplicate whose breakdown has been forgotten: score it to show it
        else:
            extra = []
        length_of = dict(zip(codes, batch.lengths.tolist(), strict=True))
        fresh_lengths = [int(length_of[c]) for c in fresh + extra]
        timing0 = dict(self.scorer.timing)
        learned = None
        t_learn = 0.0
        if tc.pipeline and self.learning:
            future = self._pool().submit(self._score, fresh + extra, fresh_lengths)
            if self._pending is not None:
                tl = time.perf_counter()
                learned = self._update(*self._pending, entropy_boost + self.explore.value)
                t_learn = time.perf_counter() - tl
            scored = future.result()
        else:
            scored = self._score(fresh + extra, fresh_lengths)
        t_scored = time.perf_counter()
        outcomes = self._outcomes(codes, fresh, scored[: len(fresh)])
        sample = outcomes[0]
        if extra:  # shown with its breakdown; the reward keeps the cached score
            sample = scored[-1]
            self.cache.put(shown, sample)
        shapes = [
            self.token_shapes.of(row[:n])
            for row, n in zip(batch.tokens, batch.lengths.tolist(), strict=True)
        ]
        sample.shape_fp = shapes[0]
        sample.text_fp = sample.text_fp or text_fingerprint(shown)
        scores = np.array([o.score for o in outcomes], dtype=np.float64)
        penalties = np.array(
            [
                0.0 if o.success else self.shapes.penalty(fp)
                for o, fp in zip(outcomes, shapes, strict=True)
            ]
        )
        rewards = np.array(
            [
                with_repetition(o.score, o.success, p)
                for o, p in zip(outcomes, penalties, strict=True)
            ]
        )
        for o, fp in zip(outcomes, shapes, strict=True):
            if not o.success:
                self.shapes.add(fp)
        repeat_share = max((B - self._last_new) / B, float((penalties > 0).mean()))
        note = self.explore.observe(repeat_share)
        if note:
            self.events.append(note)

        # 3. bookkeeping: counters, best, solution, priority queue, token analytics
        solved_now = self._record(batch, codes, outcomes, rewards)

        # 3b. search beside the policy ([search]): GP children are recorded like samples and
        # join the training batch as scored; a new solution is minimised before it is shown
        t_search = time.perf_counter()
        if self.search.due():
            left = None if budget_left is None else budget_left - B
            kids = self.search.children(batch, codes, outcomes, left)
            if kids is not None:
                solved_now |= self._record_children(kids)
                if self.config.search.train_children and kids.codes:
                    batch, rewards = extend_batch(batch, rewards, kids, self.tok.pad)
        if solved_now and self.config.search.minimise and self.solution_raw is None:
            self.solution_raw = self.solution
            self.solution = self.search.minimise(self.solution or "")
            if self.best_code == self.solution_raw:
                self.best_code = self.solution
        t_search = time.perf_counter() - t_search

        # 4. learn
        t2 = time.perf_counter()
        if self.learning:
            if tc.pipeline:
                self._pending = (batch, rewards)
            else:
                learned = self._update(batch, rewards, entropy_boost + self.explore.value)
            self._plateau_schedule(float(scores.max()))
        loss, entropy, grad_norm = learned or (0.0, 0.0, 0.0)
        self.batches += 1
        t3 = time.perf_counter()
        tm, st = self.timing, self.scorer.timing
        execute = st["execute"] - timing0["execute"]
        tm["sample"] += t1 - t0
        tm["execute"] += execute
        tm["learn"] += t_learn + (t3 - t2)
        # the rest of scoring: analysis, variant planning, the breakdown (and, pipelined, the
        # wait for whatever of it did not overlap the update)
        tm["analyse"] += max(0.0, (t_scored - t1) - t_learn - execute)
        tm["other"] += t2 - t_scored - t_search
        tm["search"] += t_search
        return BatchStats(
            batch=self.batches, attempts=self.attempts, size=B,
            new_programs=self._last_new, duplicates=B - self._last_new,
            score_mean=float(scores.mean()), score_max=float(scores.max()),
            successes=int(sum(o.success for o in outcomes)),
            loss=loss, entropy=entropy, grad_norm=grad_norm, lr=self.lr,
            seconds=time.perf_counter() - t0, sample_code=shown, sample=sample,
            sample_tokens=batch.first_probs, solved_now=solved_now, hint_rows=int(batch.forced.any(1).sum()),
            penalty_mean=float(penalties.mean()), sample_penalty=float(penalties[0]),
            repeat_share=repeat_share, boost=self.explore.value,
        )  # fmt: skip

    def close(self) -> None:
        """Release the scoring thread (the trainer stays usable)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # -- helpers ----------------------------------------------------------------------------------

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="altlas-score")
        return self._executor

    def _fresh(self, codes: list[str]) -> list[str]:
        """Programs to execute: unseen texts once each (or all of them with the cache off)."""
        if not self.config.train.cache:
            return list(codes)
        cache = self.cache
        return [c for c in dict.fromkeys(codes) if c not in cache]

    def _score(self, fresh: list[str], lengths: list[int]) -> list[Outcome]:
        """Run and score programs (safe in the scoring thread: touches no shared state but the
        scorer's own). The reward runs all programs on all cases in one sandbox call, its
        liveness variants in one more."""
        if not fresh:
            return []
        results = self.scorer.score_many(fresh, self.run_many, lengths)
        return [
            Outcome(
                score=float(r.score),
                success=bool(r.success),
                status=r.status,
                error_type=_error_type(r, r.status),
                components=tuple(r.components.items()),
                stdout=r.stdout[:200],
                reasons=tuple(r.reasons[:4]),
                cases=r.case_counts,
            )  # fmt: skip
            for r in results
        ]

    def _outcomes(self, codes: list[str], fresh: list[str], scored: list[Outcome]) -> list[Outcome]:
        self._last_new = len(set(fresh))
        self.unique_programs += self._last_new
        if not self.config.train.cache:
            return scored
        new = dict(zip(fresh, scored, strict=True))
        out = []
        for c in codes:  # before adding: a small cache could drop what this batch repeats
            o = new.get(c) or self.cache.get(c)
            assert o is not None  # not fresh, so in the cache
            out.append(o)
        for c, o in new.items():
            self.cache.put(c, o)
        return out

    def _record(
        self, batch: Batch, codes: list[str], outcomes: list[Outcome], rewards: np.ndarray
    ) -> bool:
        B = len(codes)
        self.duplicates += B - self._last_new
        solved_now = False
        for i, (code, o) in enumerate(zip(codes, outcomes, strict=True)):
            if self._note(code, o):
                self.attempts_to_solve = self.attempts + i + 1
                solved_now = True
        self.attempts += B
        # priority queue of the best unique programs (by reward)
        for i in np.argsort(-rewards)[: self.config.train.pqt_k * 2].tolist():
            self._offer(float(rewards[i]), codes[i], batch.tokens[i, : batch.lengths[i]])
        # token analytics: counts and adjacent pairs (PAD excluded)
        toks = batch.tokens
        V = len(self.tok)
        live = toks != self.tok.pad
        self.token_counts += np.bincount(toks[live], minlength=V)
        pairs = toks[:, :-1] * V + toks[:, 1:]
        both = live[:, :-1] & live[:, 1:]
        self.pair_counts += np.bincount(pairs[both], minlength=V * V)
        # what uniform choice among the allowed tokens would have written (over/under-use)
        steps = np.arange(toks.shape[1])[None, :] < batch.lengths[:, None]
        self.allowed_counts += uniform_expectation(batch.masks, steps)
        return solved_now

    def _record_children(self, kids: Children) -> bool:
        """Count GP children as attempts (every program the GP step scored), note the best and a
        solution among them, and offer them to the priority queue (rewards = their scores)."""
        solved_now = False
        self.unique_programs += kids.fresh
        self.duplicates += kids.evaluated - kids.fresh
        for code, o in zip(kids.codes, kids.outcomes, strict=True):
            if self._note(code, o):
                # an upper bound: the child's place among the step's programs is not kept
                self.attempts_to_solve = self.attempts + kids.evaluated
                solved_now = True
        self.attempts += kids.evaluated
        for code, o, row, n in zip(
            kids.codes, kids.outcomes, kids.tokens, kids.lengths.tolist(), strict=True
        ):
            self._offer(float(o.score), code, row[:n])
        return solved_now

    def _note(self, code: str, o: Outcome) -> bool:
        """Counters, best program and solution for one scored attempt; True for the first
        success (the caller knows where it stands among the attempts)."""
        if o.status != "ok":
            self.errors_by_type[o.error_type] = self.errors_by_type.get(o.error_type, 0) + 1
        if o.score > self.best_score or (o.success and self.solution is None):
            self.best_score, self.best_code = o.score, code
        if not o.success:
            return False
        self.successes += 1
        if self.solution is None:
            self.solution = code
            return True
        if len(code) < len(self.solution) and len(self.shorter) < 8:
            self.shorter.append(code)
        return False

    def _offer(self, reward: float, code: str, tokens: np.ndarray) -> None:
        """Offer one program to the priority queue of the best `pqt_k` unique programs."""
        if code in self.pq_codes:
            return
        item = (reward, code, tuple(tokens.tolist()))
        if len(self.pq) < self.config.train.pqt_k:
            heapq.heappush(self.pq, item)
            self.pq_codes.add(code)
        elif item[0] > self.pq[0][0]:
            old = heapq.heapreplace(self.pq, item)
            self.pq_codes.discard(old[1])
            self.pq_codes.add(code)

    def _update(
        self, batch: Batch, rewards: np.ndarray, entropy_boost: float
    ) -> tuple[float, float, float]:
        tc = self.config.train
        B, T = batch.tokens.shape
        steps = np.arange(T)[None, :]
        valid = (steps < batch.lengths[:, None]) & ~batch.forced

        # advantages: risk-seeking (top quantile vs its quantile) or EMA baseline
        r_mean = float(rewards.mean())
        self.baseline = tc.baseline_decay * self.baseline + (1 - tc.baseline_decay) * r_mean
        self.reward_var = tc.baseline_decay * self.reward_var + (1 - tc.baseline_decay) * float(
            rewards.var()
        )
        if tc.risk_seeking:
            q = float(np.quantile(rewards, 1 - tc.risk_epsilon))
            keep = rewards >= q
            adv = rewards - q
        else:
            keep = np.ones(B, dtype=bool)
            adv = rewards - self.baseline
        if tc.normalise_rewards:
            adv = adv / (np.sqrt(self.reward_var) + 1e-6)

        # one forward pass over the batch and the priority queue, under the stored masks
        tokens = torch.from_numpy(batch.tokens)
        masks = torch.from_numpy(batch.masks)
        valid_t = torch.from_numpy(valid)
        pq_items = self.pq if tc.pqt and self.pq else []
        if pq_items:
            T_all = max(T, max(len(it[2]) for it in pq_items))
            if T_all > T:
                tokens, masks, valid_t = _pad(tokens, masks, valid_t, T_all, self.tok.pad)
            pq_tok, pq_mask, pq_valid = self._pq_tensors(pq_items, T_all)
            tokens = torch.cat([tokens, pq_tok])
            masks = torch.cat([masks, pq_mask])
            valid_t = torch.cat([valid_t, pq_valid])
        logp, ent = sequence_logprobs(
            self.policy, tokens, masks, valid_t, self.tok.sos, tc.temperature
        )

        adv_t = torch.from_numpy(adv[keep]).float()
        pg_loss = (
            -(adv_t * logp[:B][torch.from_numpy(keep)]).mean() if keep.any() else torch.zeros(())
        )
        entropy = ent[:B].mean()
        loss = pg_loss - (tc.entropy_weight + entropy_boost) * entropy
        if pq_items:
            loss = loss - tc.pqt_weight * logp[B:].mean()

        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        layer_norms = grad_norms(self.policy)  # before clipping (model health)
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.policy.parameters(), tc.grad_clip))
        self.optimizer.step()
        self.health_events = self.health.observe(
            self.policy, float(loss.detach()), float(entropy.detach()), self.lr, layer_norms,
            total_grad_norm=grad_norm, optimizer=self.optimizer,
        )  # fmt: skip
        apply_health_actions(self, self.health_events)  # halve lr / restore last good / reinit
        return float(loss.detach()), float(entropy.detach()), grad_norm

    def _pq_tensors(self, items, T: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Tokens, masks and valid steps of the queued programs, replayed through the grammar."""
        cache = self._pq_cache
        V = self.grammar.vocab_size
        n = len(items)
        tok = np.full((n, T), self.tok.pad, dtype=np.int64)
        mask = np.zeros((n, T, V), dtype=bool)
        valid = np.zeros((n, T), dtype=bool)
        for j, (_, code, seq) in enumerate(items):
            m = cache.get(code)
            if m is None:
                states, ok = self.grammar.trace(list(seq), self.max_len)
                rem = np.arange(self.max_len, self.max_len - len(seq), -1)
                m = self.grammar.mask(np.array(states), rem) if ok else None
                if len(cache) >= 1000:  # bounded: drop the oldest (queued programs churn slowly)
                    del cache[next(iter(cache))]
                cache[code] = m
            if m is None:
                continue
            L = len(seq)
            tok[j, :L] = seq
            mask[j, :L] = m
            mask[j, L:, self.tok.pad] = True
            valid[j, :L] = True
        return torch.from_numpy(tok), torch.from_numpy(mask), torch.from_numpy(valid)

    def _plateau_schedule(self, batch_best: float) -> None:
        tc = self.config.train
        if not tc.lr_plateau:
            return
        if batch_best > self.best_reward_seen + 1e-9:
            self.best_reward_seen = batch_best
            self.plateau_batches = 0
            return
        self.plateau_batches += 1
        if self.plateau_batches >= tc.lr_plateau_patience and self.lr > tc.lr_min:
            self.lr = max(tc.lr_min, self.lr * 0.5)
            for group in self.optimizer.param_groups:
                group["lr"] = self.lr
            self.plateau_batches = 0

    # -- weights ----------------------------------------------------------------------------------

    def reinitialise(self, method: str | None = None) -> None:
        """Fresh weights and optimiser (the TUI's `r`); search history and counters are kept."""
        self.init_report = initialise(
            self.policy, method or self.init_method, self.generator, self.grammar, self.max_len
        )
        self.init_method = self.init_report.method_used
        self.optimizer = Adam(self.policy.parameters(), lr=self.config.train.lr)
        self.lr = self.config.train.lr
        self.health.reset(self.policy, self.optimizer)
        self.baseline, self.reward_var = 0.0, 1.0
        self._pending = None

    # -- persistence ------------------------------------------------------------------------------

    def meta(self) -> dict:
        return {
            "vocab": list(self.tok.tokens),
            "model": self.policy.shape(),
            "task": self.task.name,
        }

    def state_dict(self) -> dict:
        return {
            "meta": self.meta(),
            "policy": self.policy.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "lr": self.lr,
            "init_method": self.init_method,
            "baseline": self.baseline,
            "reward_var": self.reward_var,
            "best_reward_seen": self.best_reward_seen,
            "plateau_batches": self.plateau_batches,
            "pq": list(self.pq),
            "generator": self.generator.get_state(),
            "counters": {
                "batches": self.batches,
                "total_attempts": self.prior_attempts + self.attempts,
                "unique_programs": self.unique_programs,
                "duplicates": self.duplicates,
                "successes": self.successes,
                "errors_by_type": dict(self.errors_by_type),
                "best_score": self.best_score,
                "best_code": self.best_code,
                "solution": self.solution,
                "solution_raw": self.solution_raw,
            },
            "token_counts": self.token_counts.copy(),
            "shape_memory": self.shapes.state_dict(),
            "cache_size": len(self.cache),
            "config": self.config.to_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.lr = float(state["lr"])
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr
        self.init_method = state.get("init_method", self.init_method)
        self.baseline = float(state["baseline"])
        self.reward_var = float(state["reward_var"])
        self.best_reward_seen = float(state.get("best_reward_seen", -1.0))
        self.plateau_batches = int(state.get("plateau_batches", 0))
        self.pq = [tuple(x) for x in state.get("pq", [])]
        heapq.heapify(self.pq)
        self.pq_codes = {x[1] for x in self.pq}
        self.generator.set_state(state["generator"])
        c = state["counters"]
        self.prior_attempts = int(c["total_attempts"])
        self.best_score = float(c["best_score"])
        self.best_code = c["best_code"]
        self.solution = c["solution"]
        self.solution_raw = c.get("solution_raw")
        if "shape_memory" in state:
            self.shapes.load_state_dict(state["shape_memory"])
        counts = state.get("token_counts")
        if counts is not None and len(counts) == len(self.token_counts):
            self.token_counts = np.asarray(counts, dtype=np.int64).copy()
        self.health.reset(self.policy, self.optimizer)  # loaded weights are the new baseline

    @property
    def training_done(self) -> bool:
        """Solved, and [search] keep_training_after_solve is off: the engine stops training."""
        return self.solution is not None and not self.config.search.keep_training_after_solve

    @property
    def total_attempts(self) -> int:
        return self.prior_attempts + self.attempts


def _pad(tokens, masks, valid, T: int, pad: int):
    """Extend (N, t) batch tensors to T steps of padding."""
    n, t = tokens.shape
    extra = T - t
    tokens = torch.cat([tokens, torch.full((n, extra), pad, dtype=tokens.dtype)], 1)
    pad_mask = torch.zeros((n, extra, masks.shape[2]), dtype=torch.bool)
    pad_mask[:, :, pad] = True
    masks = torch.cat([masks, pad_mask], 1)
    valid = torch.cat([valid, torch.zeros((n, extra), dtype=torch.bool)], 1)
    return tokens, masks, valid


def _error_type(result, status: str) -> str:
    """'NameError', 'timeout', ... for a failed run; '' for a clean one."""
    err = getattr(result, "error", "") or ""
    if status == "ok":
        return ""
    if err:
        return err.split(":", 1)[0].strip()[:40] or status
    return status
