"""Dashboard: the task, the live attempt, the best program, counters and score histories."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.markup import escape
from textual.widgets import Static

from altlas_tui.screens.base import SnapshotScreen
from altlas_tui.widgets.code_view import CodeView
from altlas_tui.widgets.history_spark import HistorySpark
from altlas_tui.widgets.key_values import KeyValues
from engine.events import Event
from engine.snapshot import Snapshot

EVENTS_SHOWN = 12  # newest first; the panel shows as many as fit


KIND_LABEL = {
    "checkpoint_saved": "saved", "task_switched": "switched", "started": "start",
    "keep_training": "train on",
}  # fmt: skip


def cases_text(cases: tuple[int, ...]) -> str:
    """`cases 4/5 · hidden 1/1` from (visible passed, total, hidden passed, total); "" if none."""
    if len(cases) != 4 or not (cases[1] or cases[3]):
        return ""
    vp, vt, hp, ht = cases
    return f"cases {vp}/{vt}" + (f" · hidden {hp}/{ht}" if ht else "")


def attempt_status(snap: Snapshot) -> str:
    """`ok`, the error type, `timeout`, or `duplicate <fingerprint>` for the live attempt."""
    if snap.last_duplicate:
        return f"duplicate · {snap.last_fingerprint[:12]}" if snap.last_fingerprint else "duplicate"
    if snap.last_status == "error" and snap.last_error:
        return "error · " + snap.last_error.split(":", 1)[0]
    return snap.last_status or "—"


class DashboardScreen(SnapshotScreen):
    """What the learner is doing right now."""

    SCREEN_TITLE = "Dashboard"

    def __init__(self) -> None:
        super().__init__()
        self._events_shown = -1

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="dash"):
            with VerticalScroll(id="dash-left"):
                with Vertical(id="task-panel", classes="panel") as task_panel:
                    task_panel.border_title = "Task"
                    yield Static("", id="task-name")
                    yield Static("", id="task-desc")
                    yield Static("", id="task-expected")
                with Vertical(id="live-panel", classes="panel") as live:
                    live.border_title = "Live attempt"
                    yield CodeView(id="live-code")
                    yield Static("", id="live-status")
                    yield KeyValues(columns=3, label_width=10, id="live-components")
                with Vertical(id="best-panel", classes="panel") as best:
                    best.border_title = "Best program"
                    yield CodeView(id="best-code")
                    yield Static("", id="best-cases")
            with VerticalScroll(id="dash-right"):
                with Vertical(id="history-panel", classes="panel") as history:
                    history.border_title = "Recent batches"
                    yield HistorySpark("mean score", id="spark-score")
                    yield HistorySpark("best score", id="spark-best")
                    yield HistorySpark("success rate", fmt="{:.0%}", id="spark-success")
                with Vertical(id="counters-panel", classes="panel") as counters:
                    counters.border_title = "Counters"
                    yield KeyValues(columns=2, label_width=18, id="counters")
                with Vertical(id="events-panel", classes="panel") as events:
                    events.border_title = "Recent events (newest first)"
                    yield Static("", id="events")

    def apply_snapshot(self, snap: Snapshot) -> None:
        solved = (
            f"   ✔ solved after {snap.attempts_to_solve:,} attempts"
            if snap.attempts_to_solve
            else ""
        )
        self._set("#task-name", f"[b]{escape(snap.task_name or '—')}[/b]{solved}")
        self._set("#task-desc", escape(snap.task_description or ""))
        expected = escape(snap.expected_output.replace("\n", "⏎"))
        self._set("#task-expected", f"[$text-muted]expected output[/]  {expected}")
        live = self.query_one("#live-panel")
        # held at a solve nothing is attempted: the stale attempt gives its room to the solution
        live.set_class(snap.training_stopped, "-stopped")
        self.query_one("#live-code", CodeView).show(snap.last_code, snap.language)
        status = escape(attempt_status(snap))
        out = escape(snap.last_stdout.strip().replace("\n", "⏎")[:60])
        cases = cases_text(snap.attempt_cases)
        self._set(
            "#live-status",
            f"[$text-muted]status[/] [b]{status}[/b]   [$text-muted]score[/] [b]{snap.last_score:.3f}[/b]"
            + (f"   [b]{cases}[/b]" if cases else "")
            + (f"   [$text-muted]stdout[/] {out}" if out else ""),
        )
        best_cases = cases_text(snap.best_cases)
        self._set("#best-cases", f"[$text-muted]{best_cases}[/]" if best_cases else "")
        self.query_one("#live-components", KeyValues).show(
            [(name, f"{value:+.3f}") for name, value in snap.last_components]
        )
        best = self.query_one("#best-panel")
        # the solution is the minimised one ([search] minimise); `solution_raw` never shows here
        best.border_title = (
            f"✔ Solution · {snap.attempts_to_solve:,} attempts"
            if snap.solution and snap.attempts_to_solve
            else "✔ Solution"
            if snap.solution
            else f"Best program · {snap.best_score:.3f}"
        )
        best.set_class(snap.solution is not None, "-solved")
        self.query_one("#best-code", CodeView).show(snap.solution or snap.best_code, snap.language)
        self.query_one("#counters", KeyValues).show(
            [
                ("attempts", f"{snap.attempts:,}"),
                ("attempts/s", f"{snap.attempts_per_second:,.0f}"),
                ("total attempts", f"{snap.total_attempts:,}"),
                ("unique programs", f"{snap.unique_programs:,}"),
                ("successes", f"{snap.successes:,}"),
                ("errors", f"{snap.errors:,}"),
                ("duplicates", f"{snap.duplicates:,}"),
                ("hints req/prov", f"{snap.hints_requested}/{snap.hints_provided}"),
                ("batch", f"{snap.batch:,}"),
                ("algo · seed", f"{snap.algo} · {snap.seed}"),
                ("sandbox", snap.sandbox_level or "—"),
            ]
            + (
                [("exploration boost", f"{snap.exploration_boost:.2f}")]
                if snap.exploration_boost
                else []
            )
        )
        self.query_one("#spark-score", HistorySpark).show(snap.score_history)
        self.query_one("#spark-best", HistorySpark).show(snap.best_history)
        self.query_one("#spark-success", HistorySpark).show(snap.success_history)
        if self._events_shown != len(self.altlas.events_seen):
            self._events_shown = len(self.altlas.events_seen)
            self._show_events()

    def _show_events(self) -> None:
        recent = self.altlas.events_seen[-EVENTS_SHOWN:][::-1]  # newest first: cut the oldest
        text = Content("\n").join(
            Content.assemble(
                (f"{KIND_LABEL.get(ev.kind, ev.kind):<8} ", "$text-accent"), ev.message
            )
            for ev in recent
        )
        self.query_one("#events", Static).update(text or Content("(none yet)"))

    def engine_event(self, event: Event) -> None:
        self._show_events()

    def _set(self, selector: str, markup: str) -> None:
        widget = self.query_one(selector, Static)
        if getattr(widget, "_altlas_text", None) != markup:
            widget._altlas_text = markup  # type: ignore[attr-defined]
            widget.update(markup)
