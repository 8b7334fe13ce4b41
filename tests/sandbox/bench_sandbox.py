"""Sandbox throughput benchmark (not a test): `python tests/sandbox/bench_sandbox.py [--workers N]`.

Prints programs/s for the fast tier (typical policy programs, each text distinct so the worker's
compile cache does not help; then repeated texts), for batches with infinite loops mixed in, and
for the strict tier (programs with an import); and run_cases with 4 cases per program.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sandbox_progs import TYPICAL, generate  # noqa: E402

from engine.config import SandboxConfig  # noqa: E402
from engine.sandbox import Sandbox  # noqa: E402


def _rate(sb: Sandbox, batches: list[list[str]]) -> tuple[float, dict[str, int]]:
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    n = 0
    for batch in batches:
        for r in sb.run_many(batch):
            counts[r.status] = counts.get(r.status, 0) + 1
        n += len(batch)
    return n / (time.perf_counter() - t0), counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--batches", type=int, default=20)
    args = ap.parse_args()
    rng = random.Random(0)
    cfg = SandboxConfig(workers=args.workers)
    out: dict[str, object] = {
        "python": platform.python_version(),
        "cpus": __import__("os").cpu_count(),
        "workers": args.workers,
        "batch": args.batch,
    }
    with Sandbox(cfg) as sb:
        sb.run_many(list(TYPICAL))  # warm up
        k = 0

        def typical_batch() -> list[str]:
            nonlocal k
            b = []
            for _ in range(args.batch):
                k += 1
                src = rng.choice(TYPICAL) if rng.random() < 0.5 else generate(rng)
                b.append(f"{src}\n# {k}\n")  # distinct text: no compile-cache hits
            return b

        batches = [typical_batch() for _ in range(args.batches)]
        out["fast_distinct_per_s"], out["fast_distinct_status"] = _rate(sb, batches)
        cases = [{"x": i, "y": i + 1, "s": "ab" * i, "n": [i, i + 2]} for i in range(4)]
        t0 = time.perf_counter()
        for batch in batches:
            sb.run_cases(batch, cases)  # the same programs again: compile cache warm
        dt = time.perf_counter() - t0
        out["run_cases_4_programs_per_s"] = len(batches) * args.batch / dt
        out["run_cases_4_runs_per_s"] = 4 * len(batches) * args.batch / dt
        same = [[TYPICAL[i % 5] for i in range(args.batch)] for _ in range(args.batches)]
        out["fast_repeated_per_s"], _ = _rate(sb, same)
        loops = []
        for _ in range(5):
            b = typical_batch()
            for j in range(0, args.batch, args.batch // 4):
                b[j] = "s = 0\nwhile True:\n    s += 1\n"
            loops.append(b)
        out["fast_with_4_loops_per_batch_per_s"], out["loops_status"] = _rate(sb, loops)
        hard = []
        for _ in range(3):
            b = typical_batch()
            b[args.batch // 2] = (
                "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n"
            )
            hard.append(b)
        out["fast_with_1_unkillable_loop_per_batch_per_s"], out["hard_status"] = _rate(sb, hard)
        strict = [
            [f"import math\nprint(math.sqrt({i}) + {j})" for j in range(64)] for i in range(4)
        ]
        out["strict_per_s"], out["strict_status"] = _rate(sb, strict)
        out["stats"] = sb.describe()["stats"]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
