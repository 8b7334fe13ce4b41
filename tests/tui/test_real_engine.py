"""The TUI over the real engine on a tiny config: it trains, pauses, resumes, saves and quits."""

from __future__ import annotations

import pytest

from altlas_tui.app import AltlasApp
from engine.config import Config

from .conftest import SIZE, wait_for

pytest.importorskip("engine.controller")


def tiny_config() -> Config:
    config = Config()
    config.train.batch_size = 16
    config.train.hidden_size = 16
    config.train.embed_size = 8
    config.store.save_interval = 3600
    config.search.gp = False  # attempts counted per policy batch in these tests
    config.search.keep_training_after_solve = True  # a quick solve must not hold the task
    return config


@pytest.mark.slow
async def test_real_engine_trains_pauses_saves_and_quits():
    from engine.store import Store

    app = AltlasApp(tiny_config(), "add_two_numbers")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.bridge.snapshot.attempts > 0, timeout=60)
        assert app.engine_error is None
        await pilot.press("p")
        await wait_for(pilot, lambda: app.bridge.snapshot.status == "paused", timeout=30)
        paused_at = app.bridge.snapshot.attempts
        await pilot.pause(0.3)
        assert app.bridge.snapshot.attempts == paused_at
        await pilot.press("p")
        await wait_for(pilot, lambda: app.bridge.snapshot.attempts > paused_at, timeout=30)
        await pilot.press("s")
        await wait_for(
            pilot, lambda: any(e.kind == "checkpoint_saved" for e in app.events_seen), timeout=30
        )
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=60)
    assert app.return_code == 0
    assert app.bridge.stop_and_join(timeout=30)
    summary = app.bridge.summary()
    assert summary is not None and summary.attempts > paused_at
    reader = Store(read_only=True)
    try:
        assert "add_two_numbers" in reader.saved_tasks()
    finally:
        reader.close()


@pytest.mark.slow
async def test_injected_engine_error_leaves_a_quittable_app_and_a_saved_state(monkeypatch):
    """A sandbox failure in the middle of training: error state, state saved, q quits (1)."""
    from altlas_tui.screens.error import ErrorScreen
    from engine.store import Store
    from engine.trainer import Trainer

    real_step = Trainer.step
    calls = {"n": 0}

    def failing_step(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("SandboxError: the worker pool died (injected)")
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "step", failing_step)
    app = AltlasApp(tiny_config(), "add_two_numbers")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen), timeout=90)
        assert "injected" in app.screen.message
        assert app.bridge.snapshot.status == "error"
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=30)
    assert app.return_code == 1
    summary = app.bridge.summary()
    assert summary is not None and summary.outcome == "error" and "injected" in summary.error
    assert summary.attempts == 3 * 16 and summary.state_path  # three good batches, saved
    reader = Store(read_only=True)
    try:
        saved = reader.load_task_state("add_two_numbers")
        assert saved["counters"]["total_attempts"] == 48
        assert reader.runs.list_runs("add_two_numbers")[-1]["outcome"] == "error"
    finally:
        reader.close()
