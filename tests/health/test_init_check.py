"""Initialisation checks: broken initialisations are caught and repaired."""

from __future__ import annotations

import pytest
import torch
from health_helpers import BREAKERS, EXPECTED, MAX_LEN, _policy, _zeros

from engine.health import init_check as init


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("method", ["xavier", "kaiming", "orthogonal"])
def test_healthy_inits_pass(grammar, method, layers):
    for seed in range(2):
        p, gen = _policy(grammar, method, seed, layers)
        res = init.measure_init(p, grammar, gen, MAX_LEN)
        assert res.problems == [], (method, seed, res)
        assert res.saturated_share < 0.01
        assert res.mean_abs_hidden > 5 * init.DEAD_HIDDEN
        assert res.entropy_ratio > 0.97 and res.initial_kl < 0.05


@pytest.mark.parametrize("kind", list(BREAKERS))
def test_broken_init_is_detected(grammar, kind):
    p, gen = _policy(grammar)
    BREAKERS[kind](p)
    problems = init.check_init(p, grammar, gen, MAX_LEN)
    for expected in EXPECTED[kind]:
        assert any(expected in msg for msg in problems), (expected, problems)


def test_peaked_output_distribution_is_detected(grammar):
    """Healthy weights everywhere but a head that always prefers one token: entropy and KL flag it."""
    p, gen = _policy(grammar)
    first = grammar.allowed(grammar.start, MAX_LEN)
    with torch.no_grad():
        p.head.bias[first[0]] = 8.0
    res = init.measure_init(p, grammar, gen, MAX_LEN)
    assert res.initial_kl > init.MAX_INITIAL_KL
    assert any("initial KL" in m for m in res.problems)
    assert not any("std" in m or "activations" in m for m in res.problems)


def test_check_does_not_touch_the_run_generator(grammar):
    p, gen = _policy(grammar)
    state = gen.get_state().clone()
    a = init.measure_init(p, grammar, gen, MAX_LEN)
    b = init.measure_init(p, grammar, gen, MAX_LEN)
    assert torch.equal(gen.get_state(), state)
    assert a.entropy_ratio == b.entropy_ratio and a.saturated_share == b.saturated_share


def test_init_order_alternates_methods():
    assert init.init_order("orthogonal", 4) == ["orthogonal", "xavier", "kaiming", "orthogonal"]
    assert init.init_order("xavier", 2) == ["xavier", "kaiming"]
    with pytest.raises(ValueError):
        init.init_order("lecun", 2)


@pytest.mark.parametrize("kind", list(BREAKERS))
@pytest.mark.parametrize("broken_calls", ["first_call", "orthogonal_only"])
def test_initialise_repairs_a_broken_init(grammar, monkeypatch, kind, broken_calls):
    """The first try comes out broken; `initialise` notices, retries and ends healthy."""
    p, gen = _policy(grammar)
    real = p.init_weights
    calls: list[str] = []

    def flaky(method, generator=None):
        real(method, generator)
        calls.append(method)
        if (broken_calls == "first_call" and len(calls) == 1) or (
            broken_calls == "orthogonal_only" and method == "orthogonal"
        ):
            BREAKERS[kind](p)

    monkeypatch.setattr(p, "init_weights", flaky)
    report = init.initialise(p, "orthogonal", gen, grammar, MAX_LEN)
    assert report.ok
    assert len(report.tries) == 2
    assert report.tries[0][0] == "orthogonal" and report.tries[0][1]
    assert report.tries[1] == ("xavier", [])
    assert report.method_used == "xavier"
    assert init.check_init(p, grammar, gen, MAX_LEN) == []
    assert all(torch.isfinite(q).all() for q in p.parameters())
    msgs = report.messages()
    assert msgs[0].startswith("init try 1 (orthogonal) failed")
    assert "xavier after 2 tries" in msgs[-1]


def test_initialise_first_try_ok_is_silent(grammar):
    p, gen = _policy(grammar)
    report = init.initialise(p, "kaiming", gen, grammar, MAX_LEN)
    assert report.ok and report.method_used == "kaiming" and report.tries == [("kaiming", [])]
    assert report.messages() == []


def test_initialise_gives_up_after_max_tries_keeping_the_least_bad(grammar, monkeypatch):
    p, gen = _policy(grammar)
    real = p.init_weights
    calls: list[str] = []

    def broken(method, generator=None):
        real(method, generator)
        calls.append(method)
        if len(calls) == 2:
            with torch.no_grad():
                p.lstm.weight_hh_l0.zero_()  # one problem only: the least bad try
        else:
            _zeros(p)

    monkeypatch.setattr(p, "init_weights", broken)
    report = init.initialise(p, "xavier", gen, grammar, MAX_LEN, max_tries=4)
    assert not report.ok
    assert [m for m, _ in report.tries] == ["xavier", "kaiming", "orthogonal", "xavier"]
    assert all(problems for _, problems in report.tries)
    assert report.method_used == "kaiming"
    assert float(p.lstm.weight_hh_l0.detach().abs().max()) == 0.0
    assert (
        float(p.lstm.weight_ih_l0.detach().std()) > 0.01
    )  # the kaiming try's weights were put back
    assert "no healthy initialisation in 4 tries" in report.messages()[-1]
