"""The headless trainer survives kill -9, Ctrl+C, SIGTERM and SIGHUP without losing progress."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

TASK = "function_with_return"  # not solved in a few seconds, so runs last until killed
SAVE_INTERVAL = 0.4


def _start(*extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "altlas_tui.cli", "train", "--task", TASK, "--no-hints", "--json",
         "--set", f"store.save_interval={SAVE_INTERVAL}", "--set", "train.batch_size=64", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


class _Reader:
    """Collects (time, total_attempts) of progress lines as they arrive."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.seen: list[tuple[float, int]] = []
        self.lines: list[dict] = []
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            data = json.loads(line)
            self.lines.append(data)
            if data["event"] == "progress":
                self.seen.append((time.monotonic(), data["total_attempts"]))


def _saved_total() -> int:
    """Total attempts of the saved state, read through a 1-batch resume."""
    out = subprocess.run(
        [sys.executable, "-m", "altlas_tui.cli", "train", "--task", TASK, "--no-hints", "--json",
         "--max-attempts", "1", "--set", "train.batch_size=64"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.splitlines()[-1])
    return summary["total_attempts"] - summary["attempts"]


@pytest.mark.slow
def test_kill_9_twenty_times():
    rng = random.Random(7)
    previous = 0
    for _ in range(20):
        proc = _start()
        reader = _Reader(proc)
        deadline = time.monotonic() + 90
        while not reader.seen and time.monotonic() < deadline:  # training has started
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 2.0))  # then a random moment: mid-batch, mid-save, ...
        killed_at = time.monotonic()
        proc.kill()
        proc.wait(30)
        reader.thread.join(5)
        saved = _saved_total()
        # progress from the killed run shown at least one save interval (plus a batch) before the
        # kill must be in the checkpoint; and the saved state never goes backwards
        settled = [t for when, t in reader.seen if when < killed_at - SAVE_INTERVAL - 1.0]
        if settled:
            assert saved >= settled[-1], (saved, settled[-1])
        assert saved >= previous
        previous = saved + 64  # the 1-batch resume above saved one more batch
    assert previous > 64 * 20


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_saves_exactly_once(sig):
    from engine.store import Store, paths

    proc = _start("--fresh")
    reader = _Reader(proc)
    deadline = time.monotonic() + 60
    while not reader.seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reader.seen, proc.stderr.read() if proc.poll() is not None else "no progress"
    proc.send_signal(sig)
    assert proc.wait(60) == 128 + sig  # 130, 143, 129: what a shell reports for the signal
    reader.thread.join(5)
    summary = reader.lines[-1]
    assert summary["event"] == "summary"
    with Store(read_only=True) as store:
        runs = store.runs.list_runs(task=TASK)
        last = runs[-1]
        assert last["outcome"] == "interrupted"
        state = store.load_task_state(TASK)
    assert state["counters"]["total_attempts"] == summary["total_attempts"]
    log = paths().log_file.read_text()
    assert log.count("checkpoint (exit)") == 1  # saved exactly once on the way out


def test_second_writer_is_refused_with_holder():
    proc = _start("--fresh")
    reader = _Reader(proc)
    deadline = time.monotonic() + 60
    while not reader.seen and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "altlas_tui.cli", "train", "--task", "add_two_numbers", "--max-attempts", "10"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode == 2
        assert str(proc.pid) in out.stderr and len(out.stderr.strip().splitlines()) == 1
        hist = subprocess.run([sys.executable, "-m", "altlas_tui.cli", "history"], capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        assert hist.returncode == 0 and TASK in hist.stdout
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(60)
