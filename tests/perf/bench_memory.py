"""Memory of a training run, not a test: RSS, program cache, analyses and grammar states every 25
batches (`python tests/perf/bench_memory.py basic_loop 101 [MAX_STATES]`)."""

from __future__ import annotations

import sys

from engine.config import Config
from engine.sandbox import Sandbox
from engine.tasks import load_task
from engine.trainer import Trainer


def rss_mb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 // 2**20


def main() -> None:
    cfg = Config()
    if len(sys.argv) > 3:
        cfg.grammar.max_states = int(sys.argv[3])
    print("start", rss_mb())
    with Sandbox(cfg.sandbox) as sb:
        tr = Trainer(cfg, load_task(sys.argv[1]), sb.run_many, seed=0)
        print("trainer", rss_mb())
        for i in range(int(sys.argv[2])):
            tr.step()
            if i % 25 == 0:
                g = tr.grammar
                print(i, tr.attempts, "rss", rss_mb(), "cache", len(tr.cache), "analyses",
                      len(tr.scorer._analyses), "grammar states", g.n_states, flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
