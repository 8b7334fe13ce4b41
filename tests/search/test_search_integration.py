"""The search wired into the trainer ([search]): GP children and minimal solutions, end to end
against the real sandbox and reward."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.config import Config
from engine.sandbox import Sandbox
from engine.search.minimise import reductions
from engine.tasks import load_task
from engine.trainer import Trainer

DATA = Path(__file__).resolve().parents[1] / "data" / "io_tasks"
# a success with dead code: `y` is never read, `* 1` and `+ 0` change nothing
DEAD = "x = 0\nfor i in range(n + 1):\n    x += i * 1\n    y = 0\nprint(x + 0)\n"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def sum_task():
    return load_task(str(DATA / "sum_to_n.json"))


def _config(**search) -> Config:
    cfg = Config()
    cfg.train.batch_size = 32
    cfg.grammar.max_tokens = 40
    cfg.search.generations = 2
    cfg.search.children = 24
    cfg.search.return_best = 8
    for k, v in search.items():
        setattr(cfg.search, k, v)
    return cfg


def test_gp_children_are_scored_counted_and_trained_as_scored(sandbox, sum_task):
    tr = Trainer(_config(gp=True), sum_task, sandbox.run_many, seed=0)
    tr.config.train.pipeline = False
    seen_rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    update = tr._update

    def spy(batch, rewards, boost):
        seen_rows.append((batch.tokens, batch.masks, rewards))
        return update(batch, rewards, boost)

    tr._update = spy  # type: ignore[method-assign]
    for _ in range(4):
        tr.step()
    st = tr.search.stats
    assert st["gp_steps"] == 4 and st["evaluated"] > 0 and st["returned"] > 0
    # every program the GP step scored is an attempt, on top of the policy's samples
    assert tr.attempts == 4 * 32 + st["evaluated"]
    assert tr.unique_programs + tr.duplicates == tr.attempts
    # the training batch holds the children after the policy's rows, with their reward's scores
    # and the grammar's masks along them (every token allowed where it stands)
    extended = [r for r in seen_rows if len(r[0]) > 32]
    assert extended, "no GP child reached the training batch"
    for tokens, masks, rewards in extended:
        for j in range(32, len(tokens)):
            row = tokens[j]
            code = tr.tok.decode(row.tolist())
            outcome = tr.cache.get(code)
            assert outcome is not None and rewards[j] == pytest.approx(outcome.score)
            n = int(np.argmax(row == tr.tok.eos)) + 1
            assert all(masks[j, t, row[t]] for t in range(n))
    # children compete for the priority queue like samples
    assert any(code in tr.cache for _, code, _ in tr.pq)


def test_gp_off_leaves_the_batch_alone(sandbox, sum_task):
    tr = Trainer(_config(gp=False), sum_task, sandbox.run_many, seed=0)
    for _ in range(2):
        tr.step()
    assert tr.search.stats["gp_steps"] == 0 and tr.attempts == 64


def test_gp_every_k_batches(sandbox, sum_task):
    tr = Trainer(_config(gp=True, every=3), sum_task, sandbox.run_many, seed=0)
    for _ in range(4):
        tr.step()
    assert tr.search.stats["gp_steps"] == 1


def _solve_with(tr: Trainer, code: str) -> None:
    """One step in which the first row is forced (a hint prefix) to write `code` + EOS."""
    ids = tr.tok.encode(code) + [tr.tok.eos]
    states, ok = tr.grammar.trace(ids, tr.max_len)
    assert ok, "the test program must be valid under the grammar"
    stats = tr.step(hint=ids, hint_rows=1)
    assert stats.solved_now


@pytest.mark.parametrize("minimise", [True, False])
def test_solution_is_minimised_and_still_succeeds(sandbox, sum_task, minimise):
    from engine.reward import score_program

    assert score_program(sum_task, DEAD, sandbox.run_many).success
    tr = Trainer(_config(gp=False, minimise=minimise), sum_task, sandbox.run_many, seed=0)
    _solve_with(tr, DEAD)
    if not minimise:
        assert tr.solution == DEAD and tr.solution_raw is None
        return
    assert tr.solution_raw == DEAD
    sol = tr.solution
    assert sol is not None and len(sol) < len(DEAD)
    assert "y = 0" not in sol and "* 1" not in sol and "+ 0" not in sol
    assert score_program(sum_task, sol, sandbox.run_many).success
    # 1-minimal: no single reduction of it is still a success
    assert not any(score_program(sum_task, c, sandbox.run_many).success for c in reductions(sol))
    assert tr.best_code == sol
    # kept with the task's state
    assert tr.state_dict()["counters"]["solution_raw"] == DEAD


@pytest.fixture
def forced_first_step(monkeypatch):
    """Make the first batch of every trainer write DEAD in its first row (a forced prefix)."""
    original = Trainer.step

    def step(self, hint=None, hint_rows=0, entropy_boost=0.0, size=None, **kw):
        if self.batches == 0:
            hint, hint_rows = self.tok.encode(DEAD) + [self.tok.eos], 1
        return original(self, hint, hint_rows, entropy_boost, size, **kw)

    monkeypatch.setattr(Trainer, "step", step)


@pytest.mark.parametrize("keep", [False, True])
def test_training_stops_at_a_solve_unless_kept_going(sum_task, forced_first_step, keep):
    import threading
    import time

    from engine.control import Control
    from engine.controller import Engine

    cfg = _config(gp=False, keep_training_after_solve=keep)
    # a budgeted run ends at the solve (nothing left to do) unless it keeps training
    summary = Engine(cfg, sum_task, fresh=True, hints=False).run(Control(), max_attempts=96)
    assert summary.solved and summary.solution_raw == DEAD
    assert summary.to_json()["solution_raw"] == DEAD and summary.to_json()["solution"] != DEAD
    assert summary.attempts == (96 if keep else 32)
    # an open-ended run (the TUI's) holds in a "solved" state instead of training on
    engine = Engine(cfg, sum_task, fresh=True, hints=False)
    control = Control()
    t = threading.Thread(target=engine.run, args=(control,))
    t.start()
    try:
        deadline = time.monotonic() + 60
        while engine.trainer is None or engine.trainer.solution is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)
        a0 = engine.trainer.attempts
        time.sleep(1.0)
        if keep:
            assert engine.trainer.attempts > a0 and engine.snapshot.status != "paused"
        else:
            assert engine.trainer.attempts == a0 == 32 and engine.snapshot.status == "solved"
    finally:
        control.stop("stopped")
        t.join(60)


def test_exact_budget_with_gp(sum_task):
    from engine.control import Control
    from engine.controller import Engine

    engine = Engine(_config(gp=True), sum_task, fresh=True, hints=False)
    summary = engine.run(Control(), max_attempts=150)
    assert summary.attempts == 150 or summary.solved
    assert engine.trainer is not None and engine.trainer.search.stats["evaluated"] > 0


@pytest.mark.parametrize("on", [True, False])
def test_loop_labels_reach_the_archive(sandbox, sum_task, on):
    tr = Trainer(_config(gp=True, loop_niches=on), sum_task, sandbox.run_many, seed=0)
    tr.config.train.pipeline = False
    assert tr.scorer.count_loops is on
    # what the reward says about a real loop reaches the GP's Eval through the wrapped scorer
    real = "x = 0\nfor i in range(n + 1):\n    x += i\nprint(x)"
    digits = "x = 0\nfor c in str(n):\n    x += n\nprint(x)"
    tr.scorer.score_many([real, digits], tr.run_many, [20, 20])
    e_real, e_digits = tr.search._eval(real, 1.0, True), tr.search._eval(digits, 0.5, False)
    assert e_real is not None and e_digits is not None
    if on:
        assert e_real.loop == "grows" and e_real.iterations == (6, 4, 2, 11, 8)
        assert e_digits.loop == "varies"
    else:
        assert e_real.loop == "unknown" and e_real.iterations is None
    for _ in range(3):
        tr.step()
    labels = {key[1] for key in tr.search.gp.archive.niches}
    if on:
        assert "none" in labels  # loop-free programs are known to be loop-free
        assert labels <= {"unknown", "none", "once", "constant", "varies", "grows"}
    else:
        assert labels == {"unknown"}


def test_algo_random_is_plain_uniform_search(sandbox, sum_task):
    """`--algo random` is the baseline: no GP breeding on top of the uniform samples."""
    cfg = _config()
    cfg.train.algo = "random"
    tr = Trainer(cfg, sum_task, sandbox.run_many, seed=0)
    assert tr.search.gp is None
    stats = tr.step()
    assert tr.attempts == cfg.train.batch_size and stats is not None
    learner = Trainer(_config(), sum_task, sandbox.run_many, seed=0)
    assert learner.search.gp is not None
