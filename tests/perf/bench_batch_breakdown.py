"""Per-batch breakdown of `Trainer.step` (sample / execute / analyse / learn / other), not a test:
`python tests/perf/bench_batch_breakdown.py basic_loop --batches 20 [--algo random]
[--pipeline 1] [--all 1]` (`--all`: liveness variants for every program that runs)."""

from __future__ import annotations

import argparse
import time

from engine.config import Config
from engine.sandbox import Sandbox
from engine.tasks import load_task
from engine.trainer import Trainer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("task")
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--warm", type=int, default=3)
    ap.add_argument("--algo", default="default")
    ap.add_argument("--pipeline", type=int, default=0)
    ap.add_argument("--all", type=int, default=0)
    a = ap.parse_args()
    cfg = Config()
    cfg.train.pipeline = bool(a.pipeline)
    cfg.train.algo = a.algo
    with Sandbox(cfg.sandbox) as sb:
        tr = Trainer(cfg, load_task(a.task), sb.run_many, seed=0)
        tr.scorer.variants_for_all = bool(a.all)
        for _ in range(a.warm):
            tr.step()
        tm0, st0 = dict(tr.timing), dict(tr.scorer.timing)
        t0, c0, n0 = time.perf_counter(), time.process_time(), tr.attempts
        for _ in range(a.batches):
            tr.step()
        wall, cpu, n = time.perf_counter() - t0, time.process_time() - c0, tr.attempts - n0
        per = {k: 1000 * (tr.timing[k] - tm0[k]) / a.batches for k in tr.timing}
        st = {k: tr.scorer.timing[k] - st0[k] for k in st0}
        parts = " ".join(f"{k} {v:.0f}" for k, v in per.items())
        print(f"{a.task} algo={a.algo} pipeline={a.pipeline}: {n} attempts, {n / wall:.0f}/s, "
              f"CPU {1000 * cpu / n:.2f} ms/attempt; ms per batch: {parts} total "
              f"{1000 * wall / a.batches:.0f}; scored {st['programs']:.0f}, variants "
              f"{st['variants']:.0f}")  # fmt: skip
        tr.close()


if __name__ == "__main__":
    main()
