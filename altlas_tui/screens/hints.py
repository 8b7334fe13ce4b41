"""Hints: stuck detection, hint counters and backoff, and each hint with its measured effect."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from altlas_tui.screens.base import SnapshotScreen
from altlas_tui.widgets.key_values import KeyValues
from altlas_tui.widgets.keyed_table import KeyedTable
from engine.snapshot import HintRecord, Snapshot


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _delta(after: float | None, before: float) -> str:
    return "—" if after is None else f"{after - before:+.3f}"


def hint_row(i: int, h: HintRecord) -> tuple[str, tuple[str, ...]]:
    solved = "—" if h.solved_after is None else ("yes" if h.solved_after else "no")
    return (
        str(i),
        (
            f"{h.attempt:,}",
            "forced" if h.forced else "auto",
            h.text.replace("\n", "⏎"),
            _num(h.mean_before),
            _num(h.mean_after),
            _delta(h.mean_after, h.mean_before),
            _num(h.best_before),
            _num(h.best_after),
            solved,
        ),
    )


class HintsScreen(SnapshotScreen):
    """Hints are a last resort: when they were given and whether they helped."""

    SCREEN_TITLE = "Hints"

    def compose_body(self) -> ComposeResult:
        with Vertical(id="hint-state-panel", classes="panel") as p:
            p.border_title = "Stuck detection and hints"
            yield KeyValues(columns=3, label_width=18, id="hint-counters")
            yield Static("", id="active-hint")
        with Vertical(id="hint-table-panel", classes="panel") as p:
            p.border_title = "Hints given (effect: mean/best score before → after)"
            yield KeyedTable(
                ["#", "Attempt", "Kind", "Text", "Mean before", "Mean after", "Δ mean",
                 "Best before", "Best after", "Solved after"],
                id="hint-table",
            )  # fmt: skip

    def apply_snapshot(self, snap: Snapshot) -> None:
        measured = [h.mean_after - h.mean_before for h in snap.hints if h.mean_after is not None]
        impact = f"{sum(measured) / len(measured):+.3f}" if measured else "—"
        self.query_one("#hint-counters", KeyValues).show(
            [
                ("stuck checks", str(snap.stuck_checks)),
                ("hints requested", str(snap.hints_requested)),
                ("hints provided", str(snap.hints_provided)),
                ("forced (h key)", str(snap.hints_forced)),
                ("declined", str(snap.hints_declined)),
                ("backoff level", str(snap.hint_backoff_level)),
                ("impact (mean Δ)", impact),
                ("exploration boost", f"{snap.exploration_boost:.2f}"),
                ("attempts this run", f"{snap.attempts:,}"),
                ("total attempts", f"{snap.total_attempts:,}"),
                ("best score", f"{snap.best_score:.3f}"),
            ]
        )
        active = snap.active_hint.replace("\n", "⏎")
        self.query_one("#active-hint", Static).update(
            Content(f"active hint: {active}" if active else "no hint active")
        )
        self.query_one("#hint-table", KeyedTable).sync(
            [hint_row(i, h) for i, h in enumerate(snap.hints, start=1)]
        )
