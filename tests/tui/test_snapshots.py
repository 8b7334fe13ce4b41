"""Screenshots of every screen at 120x40 over the fake engine frozen at a fixed batch.

Update after an intended change of the look with `pytest tests/tui --snapshot-update`.
"""

from __future__ import annotations

import pytest

from altlas_tui.screens.base import SnapshotScreen
from engine.config import Config

from .conftest import SIZE, wait_for

BATCH = 45


def frozen_app(harness, low_bandwidth: bool = False):
    config = Config()
    config.ui.low_bandwidth = low_bandwidth
    # pin what the fake shows from the config, so tuning the defaults does not move pictures
    config.train.lr, config.train.init_method, config.train.algo = 2e-3, "orthogonal", "default"
    config.train.seed = 0
    config.ui.theme, config.ui.fps, config.ui.keys = "altlas-dark", 4, {}
    return harness.app(config, start_batch=BATCH, frozen=True)


def settle(app, key: str, mode: str, setup=None):
    async def run_before(pilot) -> None:
        await wait_for(pilot, lambda: app.bridge.snapshot.status == "running")
        if setup is not None:
            await setup(pilot)
        if key:
            await pilot.press(key)
        await wait_for(pilot, lambda: app.current_mode == mode)
        screen = app.screen
        assert isinstance(screen, SnapshotScreen)
        await wait_for(pilot, lambda: screen._last is not None and screen._last.status == "running")
        await pilot.pause(0.3)  # one more tick and any plot rebuild

    return run_before


@pytest.mark.parametrize(
    ("key", "mode"),
    [("", "dashboard"), ("2", "tokens"), ("3", "model"), ("5", "tasks"), ("6", "log")],
)
def test_screen_looks(snap_compare, harness, key, mode, monkeypatch):
    # The Tasks picture must not change when the shipped task set does: use the fake's tasks.
    from altlas_tui.fake_engine import FAKE_TASKS
    from altlas_tui.screens import tasks

    rows = [tasks.TaskRow(name, desc, "beginner", out) for name, (desc, out) in FAKE_TASKS.items()]
    monkeypatch.setattr(tasks, "available_tasks", lambda task_file=None: rows)
    monkeypatch.setattr(tasks, "history_best", lambda: {"basic_loop": (0.5, False)})
    app = frozen_app(harness)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle(app, key, mode))


def test_hints_screen_after_a_forced_hint(snap_compare, harness):
    app = frozen_app(harness)

    async def force_hint(pilot) -> None:
        app.bridge.send("hint")  # not the key: its toast would make the picture timing-dependent
        await wait_for(pilot, lambda: app.bridge.snapshot.hints_forced == 1)

    assert snap_compare(app, terminal_size=SIZE, run_before=settle(app, "4", "hints", force_hint))


def test_model_screen_low_bandwidth(snap_compare, harness):
    app = frozen_app(harness, low_bandwidth=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle(app, "3", "model"))


def test_help_screen(snap_compare, harness):
    app = frozen_app(harness)
    assert snap_compare(
        app, terminal_size=SIZE, press=["question_mark"], run_before=settle(app, "", "dashboard")
    )
