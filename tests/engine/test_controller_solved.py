"""The engine at a solve: it holds the task (status solved, training_stopped), `keep_training`
trains on, a switch leaves the hold behind, and a task solved earlier is held on resuming it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from engine.config import Config
from engine.control import Control
from engine.controller import Engine
from engine.store import Store
from engine.tasks import load_task
from engine.trainer import Trainer

DATA = Path(__file__).resolve().parents[1] / "data" / "io_tasks"
SOLUTION = "x = 0\nfor i in range(n + 1):\n    x += i\nprint(x)\n"
LONGER = "x = 0\nfor i in range(n + 1):\n    x = x + i\nprint(x)\n"  # also minimal
FORCE: dict[int, str] = {}  # batch number -> a program the first row of that batch writes


@pytest.fixture
def sum_task():
    return load_task(str(DATA / "sum_to_n.json"))


@pytest.fixture
def solves_at_once(monkeypatch):
    """Every trainer writes a solution in the first row of its first batch (a forced prefix)."""
    original = Trainer.step

    def step(self, hint=None, hint_rows=0, entropy_boost=0.0, size=None, **kw):
        code = FORCE.get(self.batches) if FORCE else (SOLUTION if self.batches == 0 else None)
        if code and (self.solution is None or FORCE):
            hint, hint_rows = self.tok.encode(code) + [self.tok.eos], 1
        return original(self, hint, hint_rows, entropy_boost, size, **kw)

    monkeypatch.setattr(Trainer, "step", step)
    yield
    FORCE.clear()


def config() -> Config:
    cfg = Config()
    cfg.train.batch_size = 16
    cfg.search.gp = False
    return cfg


def until(cond, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Running:
    def __init__(self, engine: Engine, **budget) -> None:
        self.engine, self.control = engine, Control()
        self.thread = threading.Thread(target=engine.run, args=(self.control,), kwargs=budget)
        self.thread.start()

    def stop(self) -> None:
        self.control.stop()
        self.thread.join(60)


def test_keep_training_releases_the_hold(sum_task, solves_at_once):
    run = Running(Engine(config(), sum_task, fresh=True, hints=False))
    engine = run.engine
    try:
        until(lambda: engine.snapshot.training_stopped)
        snap = engine.snapshot
        assert snap.status == "solved" and snap.solution and snap.attempts_per_second == 0.0
        held_at = engine.trainer.attempts
        time.sleep(0.5)
        assert engine.trainer.attempts == held_at  # held: nothing is attempted
        run.control.keep_training()
        until(lambda: engine.trainer.attempts > held_at + 32)
        snap = engine.snapshot
        assert not snap.training_stopped and snap.status == "solved"
        assert snap.attempts_per_second > 0
        assert "keep training" in " ".join(snap.events)
    finally:
        run.stop()


def test_a_switch_leaves_the_hold_and_switching_back_holds_again(sum_task, solves_at_once):
    store = Store()
    run = Running(Engine(config(), sum_task, fresh=True, hints=False, store=store))
    engine = run.engine
    try:
        until(lambda: engine.snapshot.training_stopped)
        run.control.switch_task("add_two_numbers")
        until(lambda: engine.task.name.endswith("add_two_numbers"))
        # the forced prefix solves the new task's first batch only if it is a solution there;
        # either way the hold of the old task is gone
        until(lambda: engine.trainer.attempts > 0)
        run.control.switch_task(str(DATA / "sum_to_n.json"))
        until(lambda: engine.task.name == sum_task.name)
        until(lambda: engine.snapshot.training_stopped)  # solved earlier: held at once
        assert engine.snapshot.status == "solved" and engine.trainer.attempts == 0
    finally:
        run.stop()
        store.close()


def test_a_solved_state_is_held_when_resumed_but_not_in_a_budgeted_run(sum_task, solves_at_once):
    store = Store()
    try:
        summary = Engine(config(), sum_task, fresh=True, hints=False, store=store,
                         stop_on_solve=True).run(Control(), max_attempts=64)  # fmt: skip
        assert summary.solved
        # `train` (stops at a solve) on a task solved earlier: nothing to train, ends at once
        s1 = Engine(config(), sum_task, hints=False, store=store, stop_on_solve=True).run(
            Control(), max_attempts=64
        )
        assert s1.outcome == "solved" and s1.attempts == 0 and s1.solution
        # budgeted (`train --max-attempts` without stop_on_solve, a sweep): trains its budget
        s2 = Engine(config(), sum_task, hints=False, store=store).run(Control(), max_attempts=32)
        assert s2.attempts == 32
        # open-ended (the TUI): held on resuming, nothing attempted
        run = Running(Engine(config(), sum_task, hints=False, store=store))
        try:
            until(lambda: run.engine.snapshot.training_stopped)
            time.sleep(0.3)
            assert run.engine.trainer.attempts == 0
        finally:
            run.stop()
    finally:
        store.close()


def test_training_on_after_the_solve_keeps_the_shortest_solution(sum_task, solves_at_once):
    FORCE[0] = LONGER
    run = Running(Engine(config(), sum_task, fresh=True, hints=False))
    engine = run.engine
    try:
        until(lambda: engine.snapshot.training_stopped)
        first = engine.trainer.solution
        assert first == LONGER  # nothing shorter in that batch, and it is already minimal
        FORCE[engine.trainer.batches + 2] = SOLUTION  # a shorter success, two batches on
        run.control.keep_training()
        until(lambda: engine.snapshot.solution == SOLUTION)
        assert engine.trainer.solution_raw == SOLUTION and engine.snapshot.training_stopped is False
        assert any("shorter solution" in e for e in engine.snapshot.events)
        summary = engine.summary()
        assert (
            summary.solution == SOLUTION and summary.attempts_to_solve == 1
        )  # the first solve still counts
    finally:
        run.stop()
