"""kill -9 robustness of the store: a writer killed at random moments never leaves it broken.

A zygote process imports torch once and forks a writer per round; the writer resumes from the
checkpoint, then saves checkpoints and logs metrics in a loop until the test SIGKILLs it. After
every kill, a fresh Store must open (lock released), load a complete checkpoint no older than
the last save the writer reported, and find the run history at least as new as that checkpoint.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from engine.store import Store, paths

REPO = Path(__file__).resolve().parent.parent
ROUNDS = 20

ZYGOTE = textwrap.dedent(
    """
    import os, random, sys
    import torch
    torch.set_num_threads(1)
    from engine.store import Store

    def work():
        store = Store(command="kill-test writer")
        state = store.load_task_state("t")
        counter = state["counter"] if state else 0
        w = state["w"] if state else torch.zeros(32, 32)
        run = store.runs.start_run("t", 0, "default", {"round": True}, start_step=counter)
        rng = random.Random(os.getpid())
        while True:
            counter += 1
            w = w + 1  # every element equals the counter: a torn write would show
            metrics = {f"rollout/k{i}": float(counter) for i in range(10)}
            store.runs.log_metrics(run, counter, metrics)
            store.save_task_state("t", {
                "counter": counter,
                "w": w,
                "rng": torch.get_rng_state(),
                "pad": os.urandom(rng.randint(0, 300_000)),
            })
            os.write(1, f"saved {counter}\\n".encode())

    while sys.stdin.readline():
        pid = os.fork()
        if pid == 0:
            try:
                work()
            finally:
                os._exit(1)
        print(f"child {pid}", flush=True)
        os.waitpid(pid, 0)
        print("reaped", flush=True)
    """
)


class LineReader:
    def __init__(self, stream) -> None:
        self.fd = stream.fileno()
        self.buf = b""

    def readline(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise TimeoutError("no output from the zygote")
            chunk = os.read(self.fd, 65536)
            if not chunk:
                raise EOFError("zygote exited")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the zygote forks writers")
def test_store_survives_kill_9_at_random_moments():
    rng = random.Random(1234)
    zygote = subprocess.Popen(
        [sys.executable, "-c", ZYGOTE],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=os.environ.copy(),
    )
    out = LineReader(zygote.stdout)
    floor = 0  # the newest save any writer reported so far
    killed_before_first_save = 0
    try:
        for round_no in range(ROUNDS):
            zygote.stdin.write(b"go\n")
            zygote.stdin.flush()
            line = out.readline()
            assert line.startswith("child "), line
            child = int(line.split()[1])
            if round_no % 5 == 4:  # sometimes kill during start-up (lock, load, DB open)
                time.sleep(rng.uniform(0.0, 0.05))
                killed_before_first_save += 1
            else:
                line = out.readline()
                assert line.startswith("saved "), line
                floor = max(floor, int(line.split()[1]))
                time.sleep(rng.uniform(0.0, 0.25))
            os.kill(child, signal.SIGKILL)
            while (line := out.readline()) != "reaped":
                assert line.startswith("saved "), line
                floor = max(floor, int(line.split()[1]))

            with Store() as store:  # the lock was released by the kernel
                ckpt = paths().checkpoints
                assert not list(ckpt.glob(".*.tmp-*")), "stray temp files were not swept"
                state = store.load_task_state("t")
                assert state is not None
                counter = state["counter"]
                assert counter >= floor, f"round {round_no}: loaded {counter}, saved {floor}"
                assert torch.equal(state["w"], torch.full((32, 32), float(counter)))
                assert not store.notices, store.notices  # nothing was ever damaged
                runs = store.runs.list_runs(task="t")
                # a writer killed during start-up may not have started its run yet
                assert round_no + 1 - killed_before_first_save <= len(runs) <= round_no + 1
                assert {r["outcome"] for r in runs} == {"interrupted"}
                steps = [s for s, _, _ in store.runs.metrics(runs[-1]["id"])]
                if steps:  # the history is flushed before each checkpoint: never behind it
                    assert max(steps) >= counter or runs[-1]["start_step"] == counter
            floor = max(floor, counter)
        assert not list(paths().checkpoints.glob("*.corrupt-*"))
        assert not list(paths().data.glob("runs.sqlite.corrupt-*"))
        assert floor > 20  # the writers really made progress
    finally:
        zygote.kill()
        zygote.wait()
