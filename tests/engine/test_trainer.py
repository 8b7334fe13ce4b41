"""Trainer behaviour on tiny, seeded runs against the real sandbox and scorer."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import Config
from engine.sandbox import Sandbox
from engine.tasks import load_task
from engine.trainer import Trainer


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


def _config(**train) -> Config:
    cfg = Config()
    cfg.train.batch_size = 64
    for k, v in train.items():
        setattr(cfg.train, k, v)
    return cfg


def test_short_run_improves_mean_reward(sandbox):
    tr = Trainer(_config(), load_task("add_two_numbers"), sandbox.run_many, seed=3)
    means = [tr.step().score_mean for _ in range(40)]
    early, late = np.mean(means[:5]), np.mean(means[-5:])
    assert late > early + 0.05, (early, late)


def test_random_search_does_not_learn(sandbox):
    tr = Trainer(_config(algo="random"), load_task("add_two_numbers"), sandbox.run_many, seed=3)
    before = [p.detach().clone() for p in tr.policy.parameters()]
    stats = [tr.step() for _ in range(5)]
    assert all(s.loss == 0.0 for s in stats)
    assert all((a == b).all() for a, b in zip(before, tr.policy.parameters(), strict=True))


def test_cache_skips_duplicates(sandbox):
    calls: list[int] = []

    def counting(codes):
        calls.append(len(codes))
        return sandbox.run_many(codes)

    tr = Trainer(_config(), load_task("add_two_numbers"), counting, seed=0)
    for _ in range(30):
        tr.step()
    assert tr.unique_programs + tr.duplicates == tr.attempts
    assert sum(calls) >= tr.unique_programs
    assert len(tr.cache) == tr.unique_programs


def test_priority_queue_keeps_best_unique(sandbox):
    tr = Trainer(_config(pqt_k=5), load_task("add_two_numbers"), sandbox.run_many, seed=1)
    for _ in range(10):
        tr.step()
    codes = [c for _, c, _ in tr.pq]
    assert len(codes) == 5 and len(set(codes)) == 5
    worst_kept = min(r for r, _, _ in tr.pq)
    assert worst_kept >= 0.0


def test_solves_add_two_numbers_and_solution_is_real(sandbox):
    from engine.scorer import score_program

    task = load_task("add_two_numbers")
    tr = Trainer(_config(batch_size=128), task, sandbox.run_many, seed=0)
    while tr.solution is None and tr.attempts < 40_000:
        tr.step()
    assert tr.solution is not None
    again = score_program(task, tr.solution)
    assert again.success and again.score == 1.0
    assert tr.attempts_to_solve <= tr.attempts


def test_state_dict_round_trip(sandbox):
    task = load_task("add_two_numbers")
    a = Trainer(_config(), task, sandbox.run_many, seed=5)
    for _ in range(3):
        a.step()
    state = a.state_dict()
    b = Trainer(_config(), task, sandbox.run_many, seed=99)
    b.load_state_dict(state)
    assert b.total_attempts == a.total_attempts
    for p, q in zip(a.policy.parameters(), b.policy.parameters(), strict=True):
        assert (p == q).all()
    # the RNG continues where it was: both sample the same next batch
    assert a.step().sample_code == b.step().sample_code


@pytest.mark.parametrize(
    "switch", ["pqt", "risk_seeking", "normalise_rewards", "lr_plateau", "cache"]
)
def test_each_switch_can_be_turned_off(sandbox, switch):
    tr = Trainer(_config(**{switch: False}), load_task("add_two_numbers"), sandbox.run_many, seed=2)
    for _ in range(3):
        s = tr.step()
    assert np.isfinite(s.loss) and s.attempts == 3 * 64 + tr.search.stats["evaluated"]


def test_hint_prefix_forced_and_not_credited(sandbox):
    task = load_task("add_two_numbers")
    tr = Trainer(_config(), task, sandbox.run_many, seed=4)
    prefix = tr.tok.encode("print(5 + 3)")[:3]
    s = tr.step(hint=prefix, hint_rows=8)
    assert s.hint_rows == 8


def test_search_switches_off_gives_the_plain_learner(sandbox):
    cfg = _config()
    cfg.search.gp = False
    tr = Trainer(cfg, load_task("add_two_numbers"), sandbox.run_many, seed=2)
    for _ in range(3):
        s = tr.step()
    assert s.attempts == 3 * 64 and tr.search.stats["gp_steps"] == 0
