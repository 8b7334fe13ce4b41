"""Sweeps: the runs of one `altlas-tui sweep` from the run store, and medians per setting.

Read-only and independent of the engine: it reads the run database once a second (in a thread),
so it shows a sweep running in another process as well as finished ones. `[` and `]` step
between sweeps, newest first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from altlas_tui.widgets.keyed_table import KeyedTable
from engine.sweep.report import medians
from engine.sweep.spec import settings_text

log = logging.getLogger("altlas.tui")

REFRESH_SECONDS = 1.0
RUN_COLUMNS = ("run", "task", "seed", "settings", "state", "progress", "attempts", "to solve",
               "best", "seconds")  # fmt: skip
MEDIAN_COLUMNS = ("settings | task", "runs", "solved", "median attempts to solve", "median s")
BAR = 10


def read_sweep_runs() -> list[dict[str, Any]]:
    """Every run of kind "sweep" in the run store, oldest first (read-only, no lock)."""
    from engine.store import RunDB, paths

    db = RunDB(paths().db_file, read_only=True)
    try:
        return db.list_runs(kind="sweep")
    finally:
        db.close()


def sweep_info(run: dict[str, Any]) -> dict[str, Any]:
    """The "sweep" entry the driver stores in each run's config (empty for older records)."""
    info = (run.get("config") or {}).get("sweep")
    return info if isinstance(info, dict) else {}


def group_sweeps(runs: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Runs grouped by sweep id, in the order the sweeps started."""
    out: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        out.setdefault(str(sweep_info(run).get("id", "")), []).append(run)
    return list(out.items())


def progress_text(run: dict[str, Any]) -> str:
    """`█████░░░░░  48%` for a run under way; the share of its budget it used otherwise."""
    budget = sweep_info(run).get("max_attempts") or 0
    attempts = run.get("attempts") or 0
    if not budget:
        return ""
    frac = min(1.0, attempts / budget)
    filled = round(BAR * frac)
    return "█" * filled + "░" * (BAR - filled) + f" {100 * frac:3.0f}%"


def run_cells(run: dict[str, Any]) -> tuple[str, ...]:
    def num(v: Any) -> str:
        return "-" if v is None else f"{int(v):,}"

    best = run.get("best_score")
    seconds = run.get("seconds")
    return (
        run.get("task") or "",
        "-" if run.get("seed") is None else str(run["seed"]),
        settings_text(sweep_info(run).get("settings") or {}) or "-",
        run.get("outcome") or "",
        progress_text(run),
        num(run.get("attempts")),
        num(run.get("attempts_to_solve")),
        "-" if best is None else f"{best:.3f}",
        "-" if seconds is None else f"{seconds:,.1f}",
    )


def median_rows(runs: list[dict[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    """Keyed rows of medians over the finished (solved or out-of-budget) runs."""
    finished = [
        {
            "task": r.get("task") or "",
            "settings": sweep_info(r).get("settings") or {},
            "solved": r.get("outcome") == "solved" or bool(r.get("solved")),
            "attempts_to_solve": r.get("attempts_to_solve"),
            "attempts": r.get("attempts") or 0,
            "seconds": r.get("seconds") or 0.0,
            "budget": sweep_info(r).get("max_attempts") or 0,
        }
        for r in runs
        if r.get("outcome") in ("solved", "budget")
    ]
    rows = []
    for g in medians(finished):
        to_solve = "-" if g.median_to_solve is None else f"{g.median_to_solve:,.0f}"
        rows.append((
            f"{g.settings or '-'} | {g.task}",
            (str(g.runs), f"{g.solved}/{g.runs} ({100 * g.solved_share:.0f}%)",
             to_solve + ("+" if g.lower_bound else ""),
             "-" if g.median_seconds is None else f"{g.median_seconds:.1f}"),
        ))  # fmt: skip
    return rows


class SweepScreen(Screen):
    """Sweep runs with their progress, and a table of medians per setting."""

    DEFAULT_CSS = """
    SweepScreen #sweep-title { height: 1; padding: 0 1; text-style: bold; color: $text-primary; }
    SweepScreen #sweep-runs { height: 2fr; border: round $primary 40%; }
    SweepScreen #sweep-medians-title { height: 1; padding: 0 1; color: $text-muted; }
    SweepScreen #sweep-medians { height: 1fr; border: round $primary 40%; }
    """
    BINDINGS = [
        Binding("left_square_bracket", "older", "Older sweep", id="sweep_older"),
        Binding("right_square_bracket", "newer", "Newer sweep", id="sweep_newer"),
    ]
    AUTO_FOCUS = "#sweep-runs"

    def __init__(
        self,
        read_runs: Callable[[], list[dict[str, Any]]] | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        super().__init__()
        self._read_runs = read_runs or read_sweep_runs
        self._refresh_seconds = refresh_seconds
        self._timer: Timer | None = None
        self._sweeps: list[tuple[str, list[dict[str, Any]]]] = []
        self._chosen: str | None = None  # sweep id, None: follow the newest
        self.refreshes = 0  # data applied, for tests

    def compose(self) -> ComposeResult:
        yield Static("Sweeps", id="sweep-title")
        yield KeyedTable(RUN_COLUMNS, id="sweep-runs")
        yield Static(
            "Medians per setting (finished runs; an unsolved run counts as its budget; "
            "'+': half or more unsolved, a lower bound)",
            id="sweep-medians-title",
        )
        yield KeyedTable(MEDIAN_COLUMNS, id="sweep-medians", cursor_type="none")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._timer = self.set_interval(self._refresh_seconds, self.reload, name="sweep-refresh")
        self.reload()

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    def on_screen_resume(self) -> None:
        if self._timer is not None:
            self._timer.resume()
        self.reload()

    @work(thread=True, exclusive=True, group="sweep-read")
    def reload(self) -> None:
        """Read the run store off the UI thread, then show it."""
        try:
            runs = self._read_runs()
        except Exception:  # noqa: BLE001 - a damaged store must not take the screen down
            log.exception("reading sweep runs failed")
            return
        self.app.call_from_thread(self.show_runs, runs)

    def show_runs(self, runs: list[dict[str, Any]]) -> None:
        """Render `runs` (all sweep runs in the store, oldest first)."""
        self._sweeps = group_sweeps(runs)
        ids = [sid for sid, _ in self._sweeps]
        if self._chosen is not None and self._chosen not in ids:
            self._chosen = None
        index = ids.index(self._chosen) if self._chosen is not None else len(ids) - 1
        current = self._sweeps[index][1] if self._sweeps else []
        with self.app.batch_update():
            self.query_one("#sweep-title", Static).update(self._title(index, current))
            self.query_one("#sweep-runs", KeyedTable).sync(
                [(str(r["id"]), run_cells(r)) for r in current]
            )
            self.query_one("#sweep-medians", KeyedTable).sync(median_rows(current))
        self.refreshes += 1

    def _title(self, index: int, runs: list[dict[str, Any]]) -> str:
        if not runs:
            return "Sweeps · none recorded yet (run `altlas-tui sweep --tasks ...`)"
        info = sweep_info(runs[0])
        states: dict[str, int] = {}
        for r in runs:
            states[r.get("outcome") or "?"] = states.get(r.get("outcome") or "?", 0) + 1
        total = info.get("total") or len(runs)
        parts = [
            f"Sweep {info.get('id') or '(unnamed)'}",
            f"{index + 1} of {len(self._sweeps)}",
            f"{len(runs)} of {total} runs started: "
            + ", ".join(f"{n} {s}" for s, n in sorted(states.items())),
        ]
        if info.get("backend"):
            parts.append(f"{info['backend']} backend")
        if info.get("max_attempts"):
            parts.append(f"budget {int(info['max_attempts']):,}")
        return " · ".join(parts)

    def _step(self, delta: int) -> None:
        ids = [sid for sid, _ in self._sweeps]
        if not ids:
            return
        index = ids.index(self._chosen) if self._chosen is not None else len(ids) - 1
        index = max(0, min(len(ids) - 1, index + delta))
        self._chosen = None if index == len(ids) - 1 else ids[index]
        self.reload()

    def action_older(self) -> None:
        self._step(-1)

    def action_newer(self) -> None:
        self._step(+1)
