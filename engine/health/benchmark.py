"""What model health and token analytics cost per batch in a real run (docs/benchmarks.md).

    python -m engine.health.benchmark [BATCHES]

Times only objects this benchmark owns: its own Trainer's `health` monitor and `_record` are
wrapped on the instance; the module-level helpers the trainer calls (`grad_norms`) are replayed
on the trainer's own gradients after each step rather than patched into the trainer module, so a
benchmark run can never leave another Trainer in the process timed or broken.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.health.init_check import measure_init
from engine.health.monitor import grad_norms
from engine.health.tokens import token_report, uniform_expectation
from engine.health.weights import weight_histogram, weight_stats


def _timed(spent: dict[str, float], key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - t0

    return wrapper


def benchmark(
    batches: int = 150, batch_size: int = 128, task: str = "add_two_numbers"
) -> dict[str, Any]:
    """Per-batch cost of token analytics and health monitoring, as shares of the run's batches.

    The trainer's analytics lines are replayed on every batch it sampled and timed on their own;
    `HealthMonitor.observe` is timed inside the run, `grad_norms` on the same gradients right after
    each step. Both are divided by the run's wall time per batch.
    """
    from engine.config import Config
    from engine.sandbox import Sandbox
    from engine.tasks import load_task
    from engine.trainer import Trainer

    cfg = Config()
    cfg.train.batch_size = batch_size
    spent = {"analytics": 0.0, "health": 0.0, "allowed": 0.0}

    with Sandbox(cfg.sandbox) as sb:
        tr = Trainer(cfg, load_task(task), sb.run_many, seed=0)
        timed_observe = _timed(spent, "health", tr.health.observe)
        tr.health.observe = timed_observe  # type: ignore[method-assign]
        real_record = tr._record
        V = len(tr.tok)
        counts = np.zeros(V, dtype=np.int64)
        pairs_acc = np.zeros(V * V, dtype=np.int64)
        allowed = np.zeros(V)

        def record(batch: Any, codes: Any, outcomes: Any, rewards: Any) -> bool:
            nonlocal counts, pairs_acc, allowed
            t0 = time.perf_counter()
            toks = batch.tokens  # the trainer's lines, verbatim
            live = toks != tr.tok.pad
            counts += np.bincount(toks[live], minlength=V)
            pairs = toks[:, :-1] * V + toks[:, 1:]
            both = live[:, :-1] & live[:, 1:]
            pairs_acc += np.bincount(pairs[both], minlength=V * V)
            t1 = time.perf_counter()
            steps = np.arange(toks.shape[1])[None, :] < batch.lengths[:, None]
            allowed += uniform_expectation(batch.masks, steps)
            spent["analytics"] += t1 - t0
            spent["allowed"] += time.perf_counter() - t1
            return real_record(batch, codes, outcomes, rewards)

        tr._record = record  # type: ignore[method-assign]
        try:
            for _ in range(5):  # warm-up: grammar tables, sandbox workers
                tr.step()
            for key in spent:
                spent[key] = 0.0
            norms_time = 0.0
            t0 = time.perf_counter()
            for _ in range(batches):
                tr.step()
                t_norms = time.perf_counter()
                grad_norms(tr.policy)  # what the trainer computed before clipping, again
                norms_time += time.perf_counter() - t_norms
            wall = time.perf_counter() - t0 - norms_time
            spent["health"] += norms_time
        finally:
            tr.close()
        t1 = time.perf_counter()
        rep: dict[str, Any] = {}
        for _ in range(20):
            rep = token_report(tr.tok.tokens, tr.token_counts, tr.pair_counts,
                               tr.grammar.generative_ids(), allowed)  # fmt: skip
        t_report = (time.perf_counter() - t1) / 20
        t1 = time.perf_counter()
        for _ in range(20):
            weight_stats(tr.policy), weight_histogram(tr.policy)
        t_stats = (time.perf_counter() - t1) / 20
        checks = [measure_init(tr.policy, tr.grammar, tr.generator, tr.max_len) for _ in range(10)]
    per_batch = wall / batches
    return {
        "batches": batches,
        "batch_size": batch_size,
        "seconds_per_batch": per_batch,
        "analytics_ms": 1e3 * spent["analytics"] / batches,
        "analytics_share": spent["analytics"] / wall,
        "allowed_expectation_ms": 1e3 * spent["allowed"] / batches,
        "allowed_expectation_share": spent["allowed"] / wall,
        "health_ms": 1e3 * spent["health"] / batches,
        "health_share": spent["health"] / wall,
        "token_report_ms": 1e3 * t_report,
        "weight_stats_ms": 1e3 * t_stats,
        "check_init_ms": 1e3 * float(np.median([c.seconds for c in checks])),
        "top_token": rep["top"][0] if rep.get("top") else None,
    }


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark's numbers as JSON."""
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else 150
    print(json.dumps(benchmark(n), indent=1, default=str))


if __name__ == "__main__":
    main()
