"""Screenshots of every screen at 80x24, 120x36 and 200x50 over a snapshot the real engine
published (tests/tui/data/real_snapshot.json, replayed by `ReplayEngine`).

Update after an intended change of the look with `pytest tests/tui --snapshot-update`.
"""

from __future__ import annotations

import dataclasses

import pytest

from altlas_tui.app import AltlasApp
from altlas_tui.fake_engine import FakeEngine
from altlas_tui.screens.base import SnapshotScreen
from altlas_tui.widgets.series_plot import SeriesPlot
from altlas_tui.widgets.status_bar import StatusBar
from engine.config import Config
from engine.snapshot import Snapshot

from .conftest import wait_for
from .replay import ReplayEngine, real_snapshot

SIZES = [(80, 24), (120, 36), (200, 50)]
SCREENS = [("", "dashboard"), ("2", "tokens"), ("3", "model"), ("4", "hints"), ("5", "tasks"),
           ("6", "log"), ("7", "sweeps")]  # fmt: skip


def replay_app(low_bandwidth: bool = False, **changes) -> AltlasApp:
    config = Config()
    config.ui.low_bandwidth = low_bandwidth
    config.ui.theme, config.ui.fps, config.ui.keys = "altlas-dark", 4, {}
    # the best program passing 4 of 5 visible cases and its hidden one, as the scorer reports
    snap = real_snapshot(attempt_cases=(3, 5, 0, 1), best_cases=(4, 5, 1, 1), **changes)
    return AltlasApp(
        config,
        snap.task_name,
        engine_factory=lambda config, task, on_event=None, **kw: ReplayEngine(snap, on_event),
        persist_theme_choice=False,
    )


def settle(app, key: str, mode: str):
    async def run_before(pilot) -> None:
        await wait_for(pilot, lambda: app.bridge.snapshot.status in ("running", "solved"))
        if key:
            await pilot.press(key)
        await wait_for(pilot, lambda: app.current_mode == mode)
        screen = app.screen
        if isinstance(screen, SnapshotScreen):
            await wait_for(pilot, lambda: screen._last is not None)
            bar = screen.query_one(StatusBar)
            await wait_for(pilot, lambda: bar._info != "")
        plots = list(screen.query(SeriesPlot))
        await wait_for(pilot, lambda: all(p.builds > 0 for p in plots))
        await pilot.pause(0.6)  # one more tick, the header's refit and any plot rebuild

    return run_before


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    """Log lines carry wall-clock times: pin them so pictures do not change by the second."""
    import logging
    import time

    monkeypatch.setattr(logging.Formatter, "formatTime", lambda self, record, fmt=None: "12:00:00")
    real = time.strftime
    monkeypatch.setattr(
        time, "strftime", lambda fmt, *a: "12:00:00" if fmt == "%H:%M:%S" else real(fmt, *a)
    )


@pytest.fixture
def fixed_tasks(monkeypatch):
    # The Tasks picture must not change when the shipped task set does: use the fake's tasks.
    from altlas_tui.fake_engine import FAKE_TASKS
    from altlas_tui.screens import tasks

    rows = [tasks.TaskRow(name, desc, "beginner", out) for name, (desc, out) in FAKE_TASKS.items()]
    monkeypatch.setattr(tasks, "available_tasks", lambda task_file=None: rows)
    monkeypatch.setattr(tasks, "history_best", lambda: {"basic_loop": (0.5, False)})


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(("key", "mode"), SCREENS, ids=[m for _, m in SCREENS])
def test_screen_looks(snap_compare, fixed_tasks, key, mode, size):
    app = replay_app()
    assert snap_compare(app, terminal_size=size, run_before=settle(app, key, mode))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_screen(snap_compare, size):
    app = replay_app()
    assert snap_compare(
        app, terminal_size=size, press=["question_mark"], run_before=settle(app, "", "dashboard")
    )


def test_dashboard_after_a_solve_offers_the_next_task(snap_compare, fixed_tasks):
    """Held at the solve: the minimal solution in view, no live pane, the offer above the keys."""
    app = replay_app(status="solved", training_stopped=True, solution="print(5 + 3)",
                     attempts_to_solve=1184, best_score=1.0, attempts_per_second=0.0)  # fmt: skip

    async def run_before(pilot) -> None:
        await wait_for(pilot, lambda: app.bridge.snapshot.status == "solved")
        await wait_for(pilot, lambda: app.offers.offer is not None)
        await settle(app, "", "dashboard")(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_model_screen_low_bandwidth(snap_compare):
    app = replay_app(low_bandwidth=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle(app, "3", "model"))


def test_fake_and_real_snapshots_share_their_vocabulary():
    """The fake engine (used by behaviour tests) must speak the real engine's language."""
    real = real_snapshot()
    fake = FakeEngine(Config(), "add_two_numbers", start_batch=45)
    fake.state.batch = 45
    fake._publish()
    fsnap = fake.snapshot
    assert {f.name for f in dataclasses.fields(fsnap)} == {f.name for f in dataclasses.fields(real)}
    real_components = {name for name, _ in real.last_components}
    fake_components = {name for name, _ in fsnap.last_components}
    assert fake_components <= real_components | {"repetition"}, fake_components - real_components
    assert {ls.name for ls in fsnap.layer_stats} <= {ls.name for ls in real.layer_stats}
    assert fsnap.sandbox_level in ("", real.sandbox_level)
    for field in dataclasses.fields(Snapshot):  # same types, field by field
        a, b = getattr(real, field.name), getattr(fsnap, field.name)
        if a is not None and b is not None:
            assert (
                isinstance(b, type(a))
                or isinstance(a, (int, float))
                and isinstance(b, (int, float))
            ), field.name


def test_the_recorded_snapshot_still_matches_the_real_engine():
    """A stale fixture would let pictures drift from what users see: re-record it with
    `python -m tests.tui.replay` (then `--snapshot-update`) when this fails."""
    from engine.control import Control
    from engine.controller import Engine

    config = Config()
    config.train.batch_size = 16
    engine = Engine(config, "add_two_numbers")
    engine.run(Control(), max_attempts=16)
    live, fixture = engine.snapshot, real_snapshot()
    names = {n for n, _ in live.last_components} - {"repetition"}
    assert names == {n for n, _ in fixture.last_components} - {"repetition"}
    assert {ls.name for ls in live.layer_stats} == {ls.name for ls in fixture.layer_stats}
    assert live.sandbox_level == fixture.sandbox_level
