"""Measure what the run store costs the training loop: `python -m engine.store.overhead`.

Simulates the logging of a ~2,000 attempts/s loop (batches of 128 programs, ~15.6 batches/s,
10 metric keys per batch, a best program now and then) as fast as possible in a temporary
ALTLAS_HOME, and reports the time spent in the store per batch as a share of a batch's wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

KEYS = (
    "rollout/score_mean", "rollout/score_max", "rollout/success_rate", "rollout/unique_rate",
    "train/loss", "train/entropy", "train/grad_norm", "train/lr", "time/attempts_per_second",
    "hints/provided",
)  # fmt: skip


def measure(batches: int, flush_rows: int, batch_size: int = 128, rate: float = 2000.0) -> dict:
    from engine.store.rundb import RunDB

    with tempfile.TemporaryDirectory() as tmp:
        db = RunDB(Path(tmp) / "runs.sqlite", flush_rows=flush_rows, flush_seconds=3600)
        run = db.start_run("bench", 0, "default", {"batch_size": batch_size})
        per_call = []
        t_start = time.perf_counter()
        for b in range(batches):
            step = (b + 1) * batch_size
            metrics = {k: (b % 97) / 97 + i for i, k in enumerate(KEYS)}
            t0 = time.perf_counter()
            db.log_metrics(run, step, metrics)
            if b % 500 == 0:
                db.log_best(run, step, b / batches, "x = int(input())\nprint(x + 1)\n")
            per_call.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        db.flush()
        per_call.append(time.perf_counter() - t0)
        total = time.perf_counter() - t_start
        db.close()
        size = os.path.getsize(Path(tmp) / "runs.sqlite")
    batch_period = batch_size / rate
    per_batch = sum(per_call) / batches
    per_call.sort()
    return {
        "batches": batches,
        "flush_rows": flush_rows,
        "per_batch_us": per_batch * 1e6,
        "median_call_us": statistics.median(per_call) * 1e6,
        "max_call_ms": per_call[-1] * 1e3,
        "overhead_pct": 100 * per_batch / batch_period,
        "wall_s": total,
        "db_bytes_per_hour": size / (batches * batch_period) * 3600,
    }


def measure_checkpoint(megabytes: float, repeats: int = 5) -> dict:
    import torch

    from engine.store.checkpoints import Checkpoints

    with tempfile.TemporaryDirectory() as tmp:
        ck = Checkpoints(Path(tmp), writable=True)
        state = {"w": torch.randn(int(megabytes * 262144)), "counter": 0}
        times = []
        for i in range(repeats):
            state["counter"] = i
            t0 = time.perf_counter()
            ck.save("t", state)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ck.load("t")
        load = time.perf_counter() - t0
    return {"mb": megabytes, "save_ms": statistics.median(times) * 1e3, "load_ms": load * 1e3}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20_000)
    args = parser.parse_args(argv)
    print("flush_rows  batches  per batch  median call  max call  overhead  DB growth")
    for flush_rows in (300, 2000):  # 300 rows ~ one flush per 2 s at 15.6 batches/s
        r = measure(args.batches, flush_rows)
        print(
            f"{flush_rows:>10}  {r['batches']:>7}  {r['per_batch_us']:>7.1f}us"
            f"  {r['median_call_us']:>9.1f}us  {r['max_call_ms']:>6.1f}ms"
            f"  {r['overhead_pct']:>7.3f}%  {r['db_bytes_per_hour'] / 1e6:>5.1f} MB/h"
        )
    for mb in (1.0, 10.0):
        c = measure_checkpoint(mb)
        print(
            f"checkpoint {c['mb']:.0f} MB: save {c['save_ms']:.1f} ms, load {c['load_ms']:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
