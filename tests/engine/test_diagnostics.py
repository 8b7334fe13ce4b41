"""Model health: broken initialisations are caught and repaired, blow-ups are recovered from, token
analytics count exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine import diagnostics as dg
from engine.config import Config
from engine.grammar import Grammar
from engine.policy import Batch, Policy
from engine.sandbox import Sandbox
from engine.tasks import load_task
from engine.tokenizer import Tokenizer
from engine.trainer import Outcome, Trainer

MAX_LEN = 21


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny tensors: one torch thread, as the trainer runs (much faster on a busy machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def grammar() -> Grammar:
    tok = Tokenizer.for_task(load_task("add_two_numbers"))
    return Grammar(tok, 2, 4)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


def _policy(grammar: Grammar, method: str = "orthogonal", seed: int = 0, layers: int = 1):
    gen = torch.Generator().manual_seed(seed)
    p = Policy(grammar.vocab_size, 32, 64, layers)
    p.init_weights(method, gen)
    return p, gen


def _zeros(p: Policy) -> None:
    with torch.no_grad():
        for q in p.parameters():
            q.zero_()


def _huge(p: Policy) -> None:
    with torch.no_grad():
        for q in p.parameters():
            q.mul_(1e3)


def _nan(p: Policy) -> None:
    with torch.no_grad():
        p.lstm.weight_hh_l0[3, 5] = float("nan")


BREAKERS = {"zeros": _zeros, "huge": _huge, "nan": _nan}
EXPECTED = {
    "zeros": ["near-zero std", "dead activations"],
    "huge": ["huge values", "saturated activations", "initial entropy", "initial KL"],
    "nan": ["NaN/Inf"],
}


# -- weight statistics ------------------------------------------------------------------------------


def test_weight_stats_exact_values(grammar):
    p, _ = _policy(grammar)
    with torch.no_grad():
        p.head.bias.copy_(torch.arange(grammar.vocab_size, dtype=torch.float32))
        p.head.bias[0] = 0.0005  # the one near-zero value
    stats = {s.name: s for s in dg.weight_stats(p)}
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
    assert {s.name: s for s in dg.weight_stats(p)}["head.bias"].grad_norm == pytest.approx(
        2.0 * math.sqrt(V)
    )


def test_weight_histogram_counts_every_finite_weight(grammar):
    p, _ = _policy(grammar)
    n = sum(q.numel() for q in p.parameters())
    hist = dg.weight_histogram(p, bins=30)
    assert len(hist) == 30 and sum(c for _, c in hist) == n
    centres = [c for c, _ in hist]
    assert centres == sorted(centres)
    _nan(p)
    assert sum(c for _, c in dg.weight_histogram(p)) == n - 1
    stats = {s.name: s for s in dg.weight_stats(p)}
    assert math.isfinite(stats["lstm.weight_hh_l0"].mean)  # NaN ignored in the numbers


# -- initialisation checks --------------------------------------------------------------------------


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("method", ["xavier", "kaiming", "orthogonal"])
def test_healthy_inits_pass(grammar, method, layers):
    for seed in range(2):
        p, gen = _policy(grammar, method, seed, layers)
        res = dg.measure_init(p, grammar, gen, MAX_LEN)
        assert res.problems == [], (method, seed, res)
        assert res.saturated_share < 0.01
        assert res.mean_abs_hidden > 5 * dg.DEAD_HIDDEN
        assert res.entropy_ratio > 0.97 and res.initial_kl < 0.05


@pytest.mark.parametrize("kind", list(BREAKERS))
def test_broken_init_is_detected(grammar, kind):
    p, gen = _policy(grammar)
    BREAKERS[kind](p)
    problems = dg.check_init(p, grammar, gen, MAX_LEN)
    for expected in EXPECTED[kind]:
        assert any(expected in msg for msg in problems), (expected, problems)


def test_peaked_output_distribution_is_detected(grammar):
    """Healthy weights everywhere but a head that always prefers one token: entropy and KL flag it."""
    p, gen = _policy(grammar)
    first = grammar.allowed(grammar.start, MAX_LEN)
    with torch.no_grad():
        p.head.bias[first[0]] = 8.0
    res = dg.measure_init(p, grammar, gen, MAX_LEN)
    assert res.initial_kl > dg.MAX_INITIAL_KL
    assert any("initial KL" in m for m in res.problems)
    assert not any("std" in m or "activations" in m for m in res.problems)


def test_check_does_not_touch_the_run_generator(grammar):
    p, gen = _policy(grammar)
    state = gen.get_state().clone()
    a = dg.measure_init(p, grammar, gen, MAX_LEN)
    b = dg.measure_init(p, grammar, gen, MAX_LEN)
    assert torch.equal(gen.get_state(), state)
    assert a.entropy_ratio == b.entropy_ratio and a.saturated_share == b.saturated_share


def test_init_order_alternates_methods():
    assert dg.init_order("orthogonal", 4) == ["orthogonal", "xavier", "kaiming", "orthogonal"]
    assert dg.init_order("xavier", 2) == ["xavier", "kaiming"]
    with pytest.raises(ValueError):
        dg.init_order("lecun", 2)


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
    report = dg.initialise(p, "orthogonal", gen, grammar, MAX_LEN)
    assert report.ok
    assert len(report.tries) == 2
    assert report.tries[0][0] == "orthogonal" and report.tries[0][1]
    assert report.tries[1] == ("xavier", [])
    assert report.method_used == "xavier"
    assert dg.check_init(p, grammar, gen, MAX_LEN) == []
    assert all(torch.isfinite(q).all() for q in p.parameters())
    msgs = report.messages()
    assert msgs[0].startswith("init try 1 (orthogonal) failed")
    assert "xavier after 2 tries" in msgs[-1]


def test_initialise_first_try_ok_is_silent(grammar):
    p, gen = _policy(grammar)
    report = dg.initialise(p, "kaiming", gen, grammar, MAX_LEN)
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
    report = dg.initialise(p, "xavier", gen, grammar, MAX_LEN, max_tries=4)
    assert not report.ok
    assert [m for m, _ in report.tries] == ["xavier", "kaiming", "orthogonal", "xavier"]
    assert all(problems for _, problems in report.tries)
    assert report.method_used == "kaiming"
    assert float(p.lstm.weight_hh_l0.detach().abs().max()) == 0.0
    assert (
        float(p.lstm.weight_ih_l0.detach().std()) > 0.01
    )  # the kaiming try's weights were put back
    assert "no healthy initialisation in 4 tries" in report.messages()[-1]


# -- runtime monitor --------------------------------------------------------------------------------


def _tiny():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return model, opt


def _learn(model, opt, scale=1.0):
    opt.zero_grad()
    loss = model(torch.randn(4, 8)).pow(2).mean() * scale
    loss.backward()
    norms = dg.grad_norms(model)
    total = float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0))
    opt.step()
    return float(loss.detach()), norms, total


def test_monitor_healthy_steps_raise_nothing_and_remember(grammar):
    model, opt = _tiny()
    mon = dg.HealthMonitor(remember_every=5)
    mon.reset(model, opt)
    assert mon.good_state_batch == 0
    for _ in range(12):
        loss, norms, total = _learn(model, opt)
        assert (
            mon.observe(model, loss, 1.0, 1e-3, norms, total_grad_norm=total, optimizer=opt) == []
        )
    assert mon.good_state_batch == 10
    m = mon.metrics()
    assert 0 < m["health/update_ratio"] < dg.EXPLODING_UPDATE_RATIO
    assert m["health/weight_change"] > m["health/update_ratio"]
    assert set(norms) == {"0.weight", "0.bias", "1.weight", "1.bias"}
    assert m["health/grad_norm/0.weight"] == norms["0.weight"]
    assert "health/update_ratio/1.weight" in m and m["health/entropy_ratio"] == 1.0
    assert mon.warnings == ()


def test_monitor_restore_brings_back_weights_and_optimiser():
    model, opt = _tiny()
    mon = dg.HealthMonitor()
    _learn(model, opt)
    mon.reset(model, opt)
    good = [q.detach().clone() for q in model.parameters()]
    good_step = opt.state_dict()["state"][0]["step"].item()
    for _ in range(3):
        _learn(model, opt)
    with torch.no_grad():
        model[0].weight.fill_(float("nan"))
    assert mon.restore(model, opt, lr=5e-4)
    assert all(torch.equal(a, b) for a, b in zip(good, model.parameters(), strict=True))
    assert opt.state_dict()["state"][0]["step"].item() == good_step
    assert opt.param_groups[0]["lr"] == 5e-4
    for _ in range(3):  # training on does not alter the remembered copy
        _learn(model, opt)
    assert mon.restore(model, opt)
    assert all(torch.equal(a, b) for a, b in zip(good, model.parameters(), strict=True))


def test_monitor_nan_loss_asks_for_restore():
    model, opt = _tiny()
    mon = dg.HealthMonitor()
    mon.reset(model, opt)
    loss, norms, total = _learn(model, opt)
    events = mon.observe(model, float("nan"), 1.0, 1e-3, norms, total_grad_norm=total)
    assert [(e.kind, e.action) for e in events] == [("loss_nan", "restore_checkpoint")]
    assert "NaN" in mon.warnings[-1]
    fresh = dg.HealthMonitor()  # nothing remembered: reinitialise instead
    fresh.observe(model, 1.0, 1.0, 1e-3)
    events = fresh.observe(model, float("inf"), 1.0, 1e-3)
    assert events[0].action == "reinit"


def test_monitor_exploding_update_and_grad_norm():
    model, opt = _tiny()
    mon = dg.HealthMonitor()
    mon.reset(model, opt)
    with torch.no_grad():  # an update of 30 % of the weights' size
        for q in model.parameters():
            q.mul_(1.3)
    events = mon.observe(model, 1.0, 1.0, 1e-2, {}, total_grad_norm=0.5)
    assert [(e.kind, e.action) for e in events] == [("exploding", "lower_lr")]
    with torch.no_grad():  # more than the weights' own size: damage, restore
        for q in model.parameters():
            q.mul_(5.0)
    events = mon.observe(model, 1.0, 1.0, 1e-2, {}, total_grad_norm=0.5)
    assert [(e.kind, e.action) for e in events] == [("exploding", "restore_checkpoint")]
    # a huge pre-clip gradient norm counts only when it persists
    big = dg.EXPLODING_GRAD_NORM * 2
    for _ in range(dg.EXPLODING_GRAD_BATCHES - 1):
        assert mon.observe(model, 1.0, 1.0, 1e-2, {}, total_grad_norm=big) == []
    events = mon.observe(model, 1.0, 1.0, 1e-2, {}, total_grad_norm=big)
    assert [(e.kind, e.action) for e in events] == [("exploding", "lower_lr")]
    # at the learning-rate floor there is nothing left to lower: warn, then stay quiet a while
    events = mon.observe(model, 1.0, 1.0, dg.MIN_LR, {}, total_grad_norm=1e3)
    assert events[0].action is None
    assert mon.observe(model, 1.0, 1.0, dg.MIN_LR, {}, total_grad_norm=1e3) == []


def test_monitor_vanishing_and_entropy_collapse_need_a_streak():
    model, _ = _tiny()
    mon = dg.HealthMonitor()
    mon.reset(model)
    kinds = []
    for _ in range(dg.VANISHING_BATCHES):
        events = mon.observe(model, 1.0, 1.0, 1e-3, {}, total_grad_norm=1e-9)
        kinds.append([(e.kind, e.action) for e in events])
    assert kinds[:-1] == [[]] * (dg.VANISHING_BATCHES - 1)
    assert kinds[-1] == [("vanishing", "reinit")]
    mon.observe(model, 1.0, 1.0, 1e-3, {}, total_grad_norm=1.0)  # streak broken
    fired = []
    for _ in range(dg.COLLAPSE_BATCHES + 5):
        events = mon.observe(model, 1.0, 0.01, 1e-3, {}, total_grad_norm=1e-9)
        fired += [(e.kind, e.action) for e in events]
    # a collapsed policy's tiny gradients only warn; the collapse is reported once per streak
    assert fired == [("vanishing", None), ("entropy_collapse", None)]
    assert mon.metrics()["health/entropy_ratio"] == pytest.approx(0.01)


def test_apply_actions_halves_lr_once_and_restores():
    model, opt = _tiny()

    class FakeTrainer:
        pass

    tr = FakeTrainer()
    tr.policy, tr.optimizer, tr.lr = model, opt, 1e-2
    tr.health = dg.HealthMonitor()
    tr.health.reset(model, opt)
    good = [q.detach().clone() for q in model.parameters()]
    _learn(model, opt)
    lower = dg.HealthEvent("exploding", "m", "s", "lower_lr")
    restore = dg.HealthEvent("loss_nan", "m", "s", "restore_checkpoint")
    done = dg.apply_health_actions(tr, [lower, restore])
    assert tr.lr == 5e-3 and opt.param_groups[0]["lr"] == 5e-3
    assert done == ["lr 0.01 -> 0.005", "restored last good weights"]
    assert all(torch.equal(a, b) for a, b in zip(good, model.parameters(), strict=True))


def test_absurd_learning_rate_is_caught_and_recovered(sandbox):
    """lr 10 on a real run: exploding warnings, the rate comes down, weights are restored."""
    cfg = Config()
    cfg.train.batch_size = 16
    cfg.train.lr = 10.0
    tr = Trainer(cfg, load_task("add_two_numbers"), sandbox.run_many, seed=0)
    assert tr.init_report.ok
    events = []
    for _ in range(16):
        tr.step()
        events += tr.health_events
    assert any(e.kind == "exploding" for e in events)
    assert any(e.action == "restore_checkpoint" for e in events)
    assert tr.health.restores >= 1
    assert tr.lr < 0.05  # halved at least 8 times
    assert all(g["lr"] == tr.lr for g in tr.optimizer.param_groups)
    assert all(torch.isfinite(q).all() for q in tr.policy.parameters())
    assert max(float(q.detach().abs().max()) for q in tr.policy.parameters()) < dg.MAX_ABS_WEIGHT
    assert any("exploding" in w for w in tr.health.warnings)
    # once the rate is sane the steps are healthy again
    quiet = []
    for _ in range(4):
        tr.step()
        quiet += tr.health_events
    assert quiet == []
    assert tr.health.metrics()["health/update_ratio"] < dg.EXPLODING_UPDATE_RATIO


def test_reinitialise_uses_initialise_and_resets_the_monitor(sandbox):
    cfg = Config()
    cfg.train.batch_size = 16
    tr = Trainer(cfg, load_task("add_two_numbers"), sandbox.run_many, seed=1)
    for _ in range(2):
        tr.step()
    tr.reinitialise("kaiming")
    assert tr.init_report.method_used == "kaiming" and tr.init_method == "kaiming"
    assert tr.health.good_state_batch == tr.health.batches
    tr.step()  # the jump to fresh weights is not mistaken for an exploding update
    assert tr.health_events == []


# -- token analytics --------------------------------------------------------------------------------

TOKS = ["PAD", "a", "b", "c", "d", "e"]


def test_token_report_exact_numbers():
    V = len(TOKS)
    counts = np.array([0, 6, 2, 2, 0, 0])
    pairs = np.zeros(V * V, dtype=np.int64)
    pairs[1 * V + 1] = 3  # a a
    pairs[1 * V + 2] = 2  # a b
    pairs[3 * V + 1] = 1  # c a
    rep = dg.token_report(TOKS, counts, pairs, generative_ids=[1, 2, 3, 4, 5])
    assert rep["total"] == 10 and rep["distinct"] == 3 and rep["pair_total"] == 6
    assert rep["top"] == [("a", 6, 0.6), ("b", 2, 0.2), ("c", 2, 0.2)]
    assert rep["pairs"] == [("a", "a", 3, 0.5), ("a", "b", 2, 2 / 6), ("c", "a", 1, 1 / 6)]
    assert rep["unused"] == ["d", "e"]
    # uniform share over 5 generative tokens is 0.2: a is 3x (not over 4x), d and e never used
    assert rep["over_used"] == []
    assert rep["under_used"] == [("d", 0, 0.0), ("e", 0, 0.0)]
    # 20 generative tokens (uniform share 0.05): 90 % on one token is 18x
    many = ["PAD"] + [f"t{i}" for i in range(1, 21)]
    c2 = np.zeros(21, dtype=np.int64)
    c2[1], c2[2] = 9, 1
    rep = dg.token_report(many, c2, np.zeros(21 * 21), generative_ids=range(1, 21))
    assert rep["over_used"] == [("t1", 0.9, pytest.approx(18.0))]
    assert rep["under_used"][0] == ("t3", 0, 0.0) and len(rep["under_used"]) == 18


def test_token_report_against_allowed_positions():
    counts = np.array([0, 6, 2, 2, 0, 0])
    # under uniform choice among allowed tokens, a was expected 1 time, b and c 4.5, d 0 (never
    # allowed: not judged), e 0.5
    allowed = np.array([0.0, 1.0, 4.5, 4.0, 0.0, 0.5])
    rep = dg.token_report(TOKS, counts, np.zeros(36), [1, 2, 3, 4, 5], allowed_counts=allowed)
    assert rep["baseline"] == "allowed"
    assert rep["over_used"] == [("a", 0.6, pytest.approx(6.0))]
    assert rep["under_used"] == [("e", 0, 0.0)]
    assert rep["unused"] == ["d", "e"]


def test_token_report_empty():
    rep = dg.token_report(TOKS, np.zeros(6), np.zeros(36), [1, 2])
    assert rep["total"] == 0 and rep["top"] == [] and rep["unused"] == ["a", "b"]


def test_uniform_expectation_exact():
    masks = np.zeros((2, 3, 4), dtype=bool)
    masks[0, 0, [1, 2]] = True  # 1/2 each
    masks[0, 1, [1, 2, 3, 0]] = True  # 1/4 each
    masks[0, 2, 3] = True  # dead step below
    masks[1, 0, 3] = True  # 1
    live = np.array([[True, True, False], [True, False, False]])
    exp = dg.uniform_expectation(masks, live)
    assert exp.tolist() == [0.25, 0.75, 0.75, 1.25]
    assert exp.sum() == live.sum()


def test_trainer_counts_tokens_and_pairs_of_a_hand_made_batch(sandbox):
    cfg = Config()
    cfg.train.batch_size = 3
    tr = Trainer(cfg, load_task("add_two_numbers"), sandbox.run_many, seed=0)
    tok = tr.tok
    idx = tok.index
    pad = tok.pad
    rows = [
        ["print", "(", "1", ")", "NEWLINE"],
        ["print", "(", "1", "+", "1", ")"],
        ["print", "(", ")"],
    ]
    T = 6
    arr = np.full((3, T), pad, dtype=np.int64)
    for i, r in enumerate(rows):
        arr[i, : len(r)] = [idx[t] if t in idx else getattr(tok, t.lower()) for t in r]
    V = len(tok)
    batch = Batch(
        tokens=arr,
        masks=np.ones((3, T, V), dtype=bool),
        forced=np.zeros((3, T), dtype=bool),
        lengths=np.array([5, 6, 3]),
        first_probs=[],
    )
    outcomes = [Outcome(score=0.1, success=False, status="ok", error_type="")] * 3
    tr._last_new = 3
    tr._record(batch, ["x", "y", "z"], outcomes, np.zeros(3))
    counts = tr.token_counts
    assert counts[idx["print"]] == 3 and counts[idx["("]] == 3 and counts[idx[")"]] == 3
    assert counts[idx["1"]] == 3 and counts[idx["+"]] == 1 and counts[pad] == 0
    assert counts.sum() == 14
    pc = tr.pair_counts.reshape(V, V)
    assert pc[idx["print"], idx["("]] == 3
    assert pc[idx["("], idx["1"]] == 2 and pc[idx["("], idx[")"]] == 1
    assert pc[idx["1"], idx[")"]] == 2 and pc[idx["1"], idx["+"]] == 1
    assert pc.sum() == 14 - 3  # one pair fewer than tokens per row
    rep = dg.token_report(tok.tokens, counts, tr.pair_counts, tr.grammar.generative_ids())
    assert rep["top"][0][1] == 3 and rep["pairs"][0] == ("print", "(", 3, 3 / 11)


# -- the engine end to end --------------------------------------------------------------------------


def test_engine_reports_init_retries_health_warnings_and_metrics(monkeypatch):
    """A broken first init and lr 10: warning events, snapshot warnings, health/... history."""
    from engine.control import Control
    from engine.controller import Engine
    from engine.store import Store

    real = Policy.init_weights

    def broken_orthogonal(self, method, generator=None):
        real(self, method, generator)
        if method == "orthogonal":
            _zeros(self)

    monkeypatch.setattr(Policy, "init_weights", broken_orthogonal)
    cfg = Config()
    cfg.train.batch_size = 16
    cfg.train.lr = 10.0
    cfg.store.save_interval = 3600
    events = []
    store = Store()
    try:
        engine = Engine(cfg, "add_two_numbers", store=store, on_event=events.append, fresh=True)
        engine.run(Control(), max_attempts=16 * 20)
        warnings = [e.message for e in events if e.kind == "warning"]
        assert any(m.startswith("init try 1 (orthogonal) failed") for m in warnings)
        assert any("xavier after 2 tries" in m for m in warnings)
        assert any(m.startswith("exploding") and "restored" in m for m in warnings)
        snap = engine.snapshot
        assert snap.init_method == "xavier"
        assert any("exploding" in w for w in snap.health_warnings)
        assert snap.lr < 0.05
        assert {s.name for s in snap.layer_stats} == {
            n for n, _ in engine.trainer.policy.named_parameters()
        }
        assert sum(c for _, c in snap.weight_histogram) > 0
        run = store.runs.list_runs("add_two_numbers")[-1]
        keys = {k for _, k, _ in store.runs.metrics(run["id"])}
        assert {"health/update_ratio", "health/grad_norm/lstm.weight_hh_l0"} <= keys
        logged = [e["message"] for e in store.runs.events(run["id"]) if e["kind"] == "warning"]
        assert any(m.startswith("exploding") for m in logged)
    finally:
        store.close()
