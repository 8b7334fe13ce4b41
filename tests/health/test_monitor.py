"""The runtime monitor: blow-ups are detected and recovered from, in a unit and in real runs."""

from __future__ import annotations

import pytest
import torch
from health_helpers import _zeros

from engine.config import Config
from engine.health import init_check as init
from engine.health import monitor
from engine.policy import Policy
from engine.tasks import load_task
from engine.trainer import Trainer


def _tiny():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return model, opt


def _learn(model, opt, scale=1.0):
    opt.zero_grad()
    loss = model(torch.randn(4, 8)).pow(2).mean() * scale
    loss.backward()
    norms = monitor.grad_norms(model)
    total = float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0))
    opt.step()
    return float(loss.detach()), norms, total


def test_monitor_healthy_steps_raise_nothing_and_remember(grammar):
    model, opt = _tiny()
    mon = monitor.HealthMonitor(remember_every=5)
    mon.reset(model, opt)
    assert mon.good_state_batch == 0
    for _ in range(12):
        loss, norms, total = _learn(model, opt)
        assert (
            mon.observe(model, loss, 1.0, 1e-3, norms, total_grad_norm=total, optimizer=opt) == []
        )
    assert mon.good_state_batch == 10
    m = mon.metrics()
    assert 0 < m["health/update_ratio"] < monitor.EXPLODING_UPDATE_RATIO
    assert m["health/weight_change"] > m["health/update_ratio"]
    assert set(norms) == {"0.weight", "0.bias", "1.weight", "1.bias"}
    assert m["health/grad_norm/0.weight"] == norms["0.weight"]
    assert "health/update_ratio/1.weight" in m and m["health/entropy_ratio"] == 1.0
    assert mon.warnings == ()


def test_monitor_restore_brings_back_weights_and_optimiser():
    model, opt = _tiny()
    mon = monitor.HealthMonitor()
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
    mon = monitor.HealthMonitor()
    mon.reset(model, opt)
    loss, norms, total = _learn(model, opt)
    events = mon.observe(model, float("nan"), 1.0, 1e-3, norms, total_grad_norm=total)
    assert [(e.kind, e.action) for e in events] == [("loss_nan", "restore_checkpoint")]
    assert "NaN" in mon.warnings[-1]
    fresh = monitor.HealthMonitor()  # nothing remembered: reinitialise instead
    fresh.observe(model, 1.0, 1.0, 1e-3)
    events = fresh.observe(model, float("inf"), 1.0, 1e-3)
    assert events[0].action == "reinit"


def test_monitor_exploding_update_and_grad_norm():
    model, opt = _tiny()
    mon = monitor.HealthMonitor()
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
    big = monitor.EXPLODING_GRAD_NORM * 2
    for _ in range(monitor.EXPLODING_GRAD_BATCHES - 1):
        assert mon.observe(model, 1.0, 1.0, 1e-2, {}, total_grad_norm=big) == []
    events = mon.observe(model, 1.0, 1.0, 1e-2, {}, total_grad_norm=big)
    assert [(e.kind, e.action) for e in events] == [("exploding", "lower_lr")]
    # at the learning-rate floor there is nothing left to lower: warn, then stay quiet a while
    events = mon.observe(model, 1.0, 1.0, monitor.MIN_LR, {}, total_grad_norm=1e3)
    assert events[0].action is None
    assert mon.observe(model, 1.0, 1.0, monitor.MIN_LR, {}, total_grad_norm=1e3) == []


def test_monitor_vanishing_and_entropy_collapse_need_a_streak():
    model, _ = _tiny()
    mon = monitor.HealthMonitor()
    mon.reset(model)
    kinds = []
    for _ in range(monitor.VANISHING_BATCHES):
        events = mon.observe(model, 1.0, 1.0, 1e-3, {}, total_grad_norm=1e-9)
        kinds.append([(e.kind, e.action) for e in events])
    assert kinds[:-1] == [[]] * (monitor.VANISHING_BATCHES - 1)
    assert kinds[-1] == [("vanishing", "reinit")]
    mon.observe(model, 1.0, 1.0, 1e-3, {}, total_grad_norm=1.0)  # streak broken
    fired = []
    for _ in range(monitor.COLLAPSE_BATCHES + 5):
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
    tr.health = monitor.HealthMonitor()
    tr.health.reset(model, opt)
    good = [q.detach().clone() for q in model.parameters()]
    _learn(model, opt)
    lower = monitor.HealthEvent("exploding", "m", "s", "lower_lr")
    restore = monitor.HealthEvent("loss_nan", "m", "s", "restore_checkpoint")
    done = monitor.apply_health_actions(tr, [lower, restore])
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
    assert max(float(q.detach().abs().max()) for q in tr.policy.parameters()) < init.MAX_ABS_WEIGHT
    assert any("exploding" in w for w in tr.health.warnings)
    # once the rate is sane the steps are healthy again
    quiet = []
    for _ in range(4):
        tr.step()
        quiet += tr.health_events
    assert quiet == []
    assert tr.health.metrics()["health/update_ratio"] < monitor.EXPLODING_UPDATE_RATIO


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
    cfg.search.gp = False  # every attempt of the budget a policy step: health acts per step
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
