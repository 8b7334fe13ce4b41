"""Weight statistics: exact per-tensor numbers and a histogram of every finite weight."""

from __future__ import annotations

import math

import pytest
import torch
from health_helpers import _nan, _policy

from engine.health import weights


def test_weight_stats_exact_values(grammar):
    p, _ = _policy(grammar)
    with torch.no_grad():
        p.head.bias.copy_(torch.arange(grammar.vocab_size, dtype=torch.float32))
        p.head.bias[0] = 0.0005  # the one near-zero value
    stats = {s.name: s for s in weights.weight_stats(p)}
    assert list(stats) == [n for n, _ in p.named_parameters()]
    hb = stats["head.bias"]
    V = grammar.vocab_size
    assert hb.min == pytest.approx(0.0005) and hb.max == V - 1
    expected = torch.arange(V, dtype=torch.float32)
    expected[0] = 0.0005
    assert hb.mean == pytest.approx(float(expected.mean()), rel=1e-6)
    assert hb.std == pytest.approx(float(expected.std()), rel=1e-6)
    assert hb.near_zero == pytest.approx(1 / V)
    assert hb.grad_norm == 0.0
    # a zero bias is entirely near zero
    assert stats["lstm.bias_hh_l0"].near_zero == 1.0
    # gradient norms come from .grad
    p.head.bias.grad = torch.full((V,), 2.0)
    assert {s.name: s for s in weights.weight_stats(p)}["head.bias"].grad_norm == pytest.approx(
        2.0 * math.sqrt(V)
    )


def test_weight_histogram_counts_every_finite_weight(grammar):
    p, _ = _policy(grammar)
    n = sum(q.numel() for q in p.parameters())
    hist = weights.weight_histogram(p, bins=30)
    assert len(hist) == 30 and sum(c for _, c in hist) == n
    centres = [c for c, _ in hist]
    assert centres == sorted(centres)
    _nan(p)
    assert sum(c for _, c in weights.weight_histogram(p)) == n - 1
    stats = {s.name: s for s in weights.weight_stats(p)}
    assert math.isfinite(stats["lstm.weight_hh_l0"].mean)  # NaN ignored in the numbers
