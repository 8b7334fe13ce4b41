"""Hints as a last resort: stuck detection with exponential backoff, hints derived from the task alone.

A hint is a short prefix of one of the task's valid patterns (a few tokens, more on repeated hints),
written as a forced prefix on a small share of the batch for a bounded number of attempts. Forced
tokens are not credited to the policy (the trainer excludes them from the log-probabilities). Every
hint's effect is measured: mean and best batch score before and after, and whether the task was solved
soon after.
"""

from __future__ import annotations

import ast
import random
from collections import deque
from typing import Any

from engine.config import HintConfig
from engine.tasks import Task
from engine.tokenizer import BUILTINS, FUNCTIONS, VARIABLES, Tokenizer

EFFECT_WINDOW = 20  # batches averaged before and after a hint


class _Rename(ast.NodeTransformer):
    """Pattern names -> the names the policy can write (x, y, ... and f), builtins kept."""

    def __init__(self, bound: set[str], keep: tuple[str, ...] = ()) -> None:
        # a task's input names are bound from the first token: they keep their names
        self.vars: dict[str, str] = {name: name for name in keep}
        self.free = [v for v in VARIABLES if v not in keep] or list(VARIABLES)
        self.funcs: dict[str, str] = {}
        self.bound = bound  # names the pattern assigns (a variable called `sum` is a variable)

    def _var(self, name: str) -> str:
        if name in BUILTINS and name not in self.bound:
            return name
        if name in self.funcs:
            return self.funcs[name]
        if name not in self.vars:
            taken = set(self.vars.values())
            options = [v for v in self.free if v not in taken] or self.free
            self.vars[name] = options[0]
        return self.vars[name]

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.funcs.setdefault(node.name, FUNCTIONS[len(self.funcs) % len(FUNCTIONS)])
        node.name = self.funcs[node.name]
        self.generic_visit(node)
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._var(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._var(node.arg)
        return node


def _canonical_names(src: str, keep: tuple[str, ...] = ()) -> str:
    """A valid pattern written with the policy's own names (numbers -> x, average -> f)."""
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return src
    bound = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    renamer = _Rename(bound | {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}, keep)
    for node in ast.walk(tree):  # functions first, so calls map to f, not to a variable
        if isinstance(node, ast.FunctionDef):
            renamer.funcs.setdefault(node.name, FUNCTIONS[len(renamer.funcs) % len(FUNCTIONS)])
    return ast.unparse(renamer.visit(tree))


class HintManager:
    """Decides when a hint is due, which one, and measures what it changed."""

    def __init__(
        self, config: HintConfig, task: Task, tok: Tokenizer, enabled: bool = True, seed: int = 0
    ):
        self.config, self.task, self.tok, self.enabled = config, task, tok, enabled
        self.rng = random.Random(seed)
        self.requested = self.provided = self.forced = self.declined = 0
        self.backoff_level = 0
        self.stuck_checks = 0
        self.records: list[dict[str, Any]] = []
        self._window_start_attempts = 0
        self._window_start_best = 0.0
        self._started = False
        self._active: list[int] | None = None
        self._active_text = ""
        self._active_left = 0
        self._recent_means: deque[float] = deque(maxlen=EFFECT_WINDOW)
        self._recent_best: deque[float] = deque(maxlen=EFFECT_WINDOW)
        self._pending: list[tuple[dict[str, Any], int, list[float], list[float]]] = []
        self.given: list[dict[str, Any]] = []  # new hints, drained by the engine (events)
        self.measured: list[dict[str, Any]] = []  # hints whose effect is known (run history)
        keep = tuple(getattr(task, "input_names", ()))
        self._patterns = [tok.encode(_canonical_names(p, keep)) for p in task.valid_patterns]
        self._patterns = [p for p in self._patterns if tok.unk not in p]

    # -- called by the engine once per batch ------------------------------------------------------

    def observe(self, stats, trainer) -> None:
        if not self._started:  # windows start from where this run (or resume) begins
            self._started = True
            self._window_start_attempts = trainer.attempts - stats.size
            self._window_start_best = trainer.best_score
        self._recent_means.append(stats.score_mean)
        self._recent_best.append(stats.score_max)
        for rec, _end, means, bests in self._pending:
            means.append(stats.score_mean)
            bests.append(stats.score_max)
            if trainer.solution is not None and rec["solved_after"] is None:
                rec["solved_after"] = True
        still = []
        for item in self._pending:
            rec, end_at, means, bests = item
            if trainer.attempts >= end_at:
                rec["mean_after"] = round(sum(means) / max(1, len(means)), 4)
                rec["best_after"] = round(max(bests, default=0.0), 4)
                if rec["solved_after"] is None:
                    rec["solved_after"] = trainer.solution is not None
                self.measured.append(rec)
            else:
                still.append(item)
        self._pending = still
        if self._active_left > 0:
            self._active_left -= stats.size
            if self._active_left <= 0:
                self._active, self._active_text = None, ""
        if trainer.solution is not None:
            return
        cfg = self.config
        if trainer.attempts - self._window_start_attempts < cfg.stuck_check_window:
            return
        # one stuck check per window
        improved = trainer.best_score - self._window_start_best >= cfg.stuck_threshold
        self._window_start_attempts = trainer.attempts
        self._window_start_best = trainer.best_score
        if improved:
            self.stuck_checks = 0
            self.backoff_level = 0  # learning moves on its own again
            return
        self.stuck_checks += 1
        needed = cfg.max_consecutive_stuck_checks * cfg.backoff_factor**self.backoff_level
        if self.stuck_checks < needed or not self.enabled:
            return
        self.stuck_checks = 0
        self.requested += 1
        if self.rng.random() < cfg.hint_probability_on_stuck:
            self._give(trainer, forced=False)
        else:
            self.declined += 1

    def force(self, trainer) -> str:
        """A hint now (the TUI's `h`), counted separately from automatic hints."""
        self.requested += 1
        self.forced += 1
        return self._give(trainer, forced=True)

    def impact(self) -> float | None:
        """Mean change of the batch mean score after a hint (measured hints only)."""
        done = [r for r in self.records if r.get("mean_after") is not None]
        if not done:
            return None
        return sum(r["mean_after"] - r["mean_before"] for r in done) / len(done)

    def active_prefix(self, batch_size: int) -> tuple[list[int] | None, int]:
        if not self._active:
            return None, 0
        return self._active, max(1, int(batch_size * self.config.hint_fraction))

    def active_text(self) -> str:
        return self._active_text

    # -- internals --------------------------------------------------------------------------------

    def _give(self, trainer, forced: bool) -> str:
        if not self._patterns:
            return "(no usable pattern in the task)"
        n = self.config.hint_tokens + self.provided
        prefix = self._usable_prefix(trainer, n)
        if not prefix:
            return "(no usable pattern in the task)"
        self.provided += 1
        if not forced:
            self.backoff_level += 1
        self._active = prefix
        self._active_text = " ".join(self.tok.tokens[i] for i in prefix)
        self._active_left = self.config.hint_duration
        rec: dict[str, Any] = {
            "attempt": trainer.total_attempts, "text": self._active_text, "forced": forced,
            "mean_before": round(sum(self._recent_means) / max(1, len(self._recent_means)), 4),
            "best_before": round(max(self._recent_best, default=0.0), 4),
            "mean_after": None, "best_after": None, "solved_after": None,
        }  # fmt: skip
        self.records.append(rec)
        self.given.append(rec)
        self._pending.append((rec, trainer.attempts + self.config.hint_duration, [], []))
        return self._active_text

    def _usable_prefix(self, trainer, n: int) -> list[int]:
        """The longest prefix (up to n tokens) of a pattern that the grammar can write."""
        order = list(range(len(self._patterns)))
        self.rng.shuffle(order)
        best: list[int] = []
        for k in order:
            seq = self._patterns[k][: max(1, n)]
            _, ok = trainer.grammar.trace(seq, trainer.max_len)
            while seq and not ok:
                seq = seq[:-1]
                _, ok = trainer.grammar.trace(seq, trainer.max_len)
            if len(seq) > len(best):
                best = seq
            if len(best) >= n:
                break
        return best

    def state_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested, "provided": self.provided, "forced": self.forced,
            "declined": self.declined, "backoff_level": self.backoff_level,
            "stuck_checks": self.stuck_checks, "records": list(self.records),
        }  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key in ("requested", "provided", "forced", "declined", "backoff_level", "stuck_checks"):
            setattr(self, key, int(state.get(key, 0)))
        self.records = list(state.get("records", []))
