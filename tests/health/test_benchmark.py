"""The health benchmark measures a real run and leaves the trainer module as it found it."""

from __future__ import annotations

import math

import engine.trainer as trainer_mod
from engine.health import benchmark, monitor


def test_benchmark_reports_finite_costs_and_patches_no_module_globals():
    before = dict(vars(trainer_mod))
    out = benchmark.benchmark(batches=3, batch_size=8)
    assert vars(trainer_mod) == before  # nothing in the trainer module was replaced
    assert trainer_mod.grad_norms is monitor.grad_norms
    assert out["batches"] == 3 and out["batch_size"] == 8
    for key in ("seconds_per_batch", "analytics_ms", "health_ms", "token_report_ms"):
        assert math.isfinite(out[key]) and out[key] > 0, key
    assert 0 < out["health_share"] < 1
