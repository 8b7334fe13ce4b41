"""The Sweep screen: runs and medians from the run store, refreshed, stepping between sweeps."""

from __future__ import annotations

import time

from textual.app import App

from altlas_tui.screens.sweep import SweepScreen, median_rows, progress_text
from altlas_tui.widgets.keyed_table import KeyedTable
from engine.store import Store


def _run(i, sweep, task, seed, lr, outcome, attempts, to_solve=None, budget=1000):
    return {
        "id": i, "kind": "sweep", "task": task, "seed": seed, "outcome": outcome,
        "attempts": attempts, "attempts_to_solve": to_solve, "best_score": 0.5, "seconds": 2.0,
        "solved": outcome == "solved",
        "config": {"sweep": {"id": sweep, "settings": {"train.lr": lr}, "max_attempts": budget,
                             "backend": "local", "total": 4}},
    }  # fmt: skip


class Host(App):
    def __init__(self, screen: SweepScreen) -> None:
        super().__init__()
        self._sweep = screen

    def on_mount(self) -> None:
        self.push_screen(self._sweep)


async def _wait(pilot, cond, timeout=5.0):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not met"
        await pilot.pause(0.02)


def _cells(table: KeyedTable) -> dict[str, tuple]:
    return dict(table._cells)


def test_progress_and_medians_helpers():
    assert progress_text(_run(1, "s", "a", 0, "1", "running", 480)).endswith(" 48%")
    rows = dict(median_rows([
        _run(1, "s", "a", 0, "1", "solved", 100, 100), _run(2, "s", "a", 1, "1", "budget", 1024),
        _run(3, "s", "a", 0, "2", "running", 10),
    ]))  # fmt: skip
    assert list(rows) == ["train.lr=1 | a"]  # the running run is not in the medians
    assert rows["train.lr=1 | a"] == ("2", "1/2 (50%)", "562+", "2.0")  # median of 100 and 1,024


async def test_screen_shows_the_newest_sweep_and_refreshes():
    data = [_run(1, "old", "a", 0, "1", "budget", 1000),
            _run(2, "new", "a", 0, "1", "solved", 300, 300),
            _run(3, "new", "a", 0, "2", "running", 500)]  # fmt: skip
    screen = SweepScreen(read_runs=lambda: list(data), refresh_seconds=0.05)
    app = Host(screen)
    async with app.run_test(size=(140, 30)) as pilot:
        await _wait(pilot, lambda: screen.refreshes > 0)
        runs = screen.query_one("#sweep-runs", KeyedTable)
        assert set(_cells(runs)) == {"2", "3"}
        assert _cells(runs)["3"][4] == "running" and _cells(runs)["3"][3] == "train.lr=2"
        title = str(screen.query_one("#sweep-title").render())
        assert "Sweep new" in title and "2 of 2" in title
        medians = screen.query_one("#sweep-medians", KeyedTable)
        assert set(_cells(medians)) == {"train.lr=1 | a"}
        # the running run finishes: the next refresh shows it and its medians
        data[2] = _run(3, "new", "a", 0, "2", "budget", 1024)
        await _wait(pilot, lambda: _cells(runs)["3"][4] == "budget")
        await _wait(pilot, lambda: "train.lr=2 | a" in _cells(medians))
        # step to the older sweep and back
        await pilot.press("left_square_bracket")
        await _wait(pilot, lambda: set(_cells(runs)) == {"1"})
        await pilot.press("right_square_bracket")
        await _wait(pilot, lambda: set(_cells(runs)) == {"2", "3"})


async def test_screen_reads_the_real_store():
    with Store() as store:
        rid = store.runs.start_run("add_two_numbers", 0, "default",
                                   {"sweep": {"id": "x", "settings": {"train.batch_size": "32"},
                                              "max_attempts": 512}}, kind="sweep")  # fmt: skip
        store.runs.start_run("add_two_numbers", 0, "default", {}, kind="train")
        store.runs.log_metrics(rid, 256, {"rollout/score_mean": 0.1})
        store.runs.end_run(rid, "budget", {"attempts": 512, "seconds": 1.0, "best_score": 0.4})
    screen = SweepScreen(refresh_seconds=0.05)
    async with Host(screen).run_test(size=(140, 30)) as pilot:
        await _wait(pilot, lambda: screen.refreshes > 0)
        cells = _cells(screen.query_one("#sweep-runs", KeyedTable))
        assert list(cells) == [str(rid)]  # the train run is not a sweep run
        assert cells[str(rid)][3:5] == ("train.batch_size=32", "budget")
