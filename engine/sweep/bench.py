"""Sweep wall time per backend: `python -m engine.sweep.bench [local|ray ...] [--workers N]`.

Runs add_two_numbers and conditional_check x 2 seeds at 2,000 attempts (default config, hints
off) into a temporary data folder, and prints one JSON line per backend: backend start-up time
(Ray: `ray.init()`), sweep wall time, each run's own seconds and outcome. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time


def measure(backend_name: str, workers: int, max_attempts: int = 2000) -> dict:
    from engine.config import Config
    from engine.store import Store
    from engine.sweep import build_specs, make_backend, run_sweep
    from engine.tasks import load_task

    tasks = [load_task("add_two_numbers"), load_task("conditional_check")]
    specs = build_specs(Config(), tasks, 2, {}, max_attempts)
    t0 = time.monotonic()
    backend = make_backend(backend_name, workers)
    t1 = time.monotonic()
    with Store() as store:
        result = run_sweep(specs, backend, store.runs, sweep_id=f"bench-{backend_name}")
    t2 = time.monotonic()
    return {
        "backend": backend_name, "workers": workers, "startup_s": round(t1 - t0, 2),
        "sweep_wall_s": round(t2 - t1, 2), "total_s": round(t2 - t0, 2),
        "run_seconds": [round((st.summary or {}).get("seconds") or 0, 1) for st in result.runs],
        "attempts_to_solve": [(st.summary or {}).get("attempts_to_solve") for st in result.runs],
        "outcomes": [st.outcome for st in result.runs],
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("backends", nargs="*", default=["local", "ray"])
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args()
    for name in args.backends:
        with tempfile.TemporaryDirectory() as home:
            os.environ["ALTLAS_HOME"] = home
            print(json.dumps(measure(name, args.workers)), flush=True)


if __name__ == "__main__":
    main()
