"""Per-program scoring cost, not a test: 128 near-correct programs in one `score_many` on a real
sandbox, best of 3 (`python tests/perf/bench_scoring_cost.py add_two_numbers sum_to_n`)."""

from __future__ import annotations

import itertools
import sys
import time

from engine.config import Config
from engine.reward import TaskScorer
from engine.sandbox import Sandbox
from engine.tasks import load_task


def programs(name: str) -> list[str]:
    if name == "add_two_numbers":
        pairs = list(itertools.product(range(10), range(7)))[:64]
        return [f"print({a} + {b})" for a, b in pairs] + [
            f"x = {a}\ny = 3\nprint(x + y * {b})" for a, b in pairs
        ]
    return [f"print(n + {a})" for a in range(64)] + [
        f"t = 0\nfor i in range({a}, n + 1):\n    t += i\nprint(t)" for a in range(64)
    ]


def main() -> None:
    with Sandbox(Config().sandbox) as sb:
        for name in sys.argv[1:] or ["add_two_numbers"]:
            task, codes = load_task(name), programs(name)
            best = []
            for _ in range(3):
                scorer = TaskScorer(task)
                scorer.prepare(sb)  # the task's patterns: once per task, not timed
                w0, c0 = time.perf_counter(), time.process_time()
                scorer.score_many(codes, sb)
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                best.append((1000 * wall / len(codes), 1000 * cpu / len(codes)))
            w, c = min(best)
            print(f"{name}: {w:.2f} ms/program wall, {c:.2f} ms CPU in this process, "
                  f"{scorer.timing['variants']:.0f} variants")  # fmt: skip


if __name__ == "__main__":
    main()
