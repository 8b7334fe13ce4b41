"""A one-glance indicator of the engine state: running, paused, solved, stopped, error."""

from __future__ import annotations

from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static

_LABELS = {
    "starting": "◌ STARTING",
    "running": "● RUNNING",
    "paused": "❚❚ PAUSED",
    "solved": "✔ SOLVED · RUNNING",
    "stopped": "■ STOPPED",
    "error": "✖ ERROR",
}
_SHORT = {"solved": "✔ SOLVED", "starting": "◌ START"}


PENDING_TIMEOUT = 3.0  # seconds a pending label may show without the engine confirming


class RunIndicator(Static):
    """Shows the engine status; a pending command (e.g. "pausing…") shows until it takes effect."""

    DEFAULT_CSS = """
    RunIndicator {
        width: 22;  /* fixed: an auto width kept stale sizes from earlier labels */
        &.-narrow { width: 13; }
        text-align: center;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 0 1;
        text-style: bold;
        background: $primary-muted;
        color: $text-primary;
    }
    RunIndicator.-paused { background: $warning-muted; color: $text-warning; }
    RunIndicator.-solved { background: $success-muted; color: $text-success; }
    RunIndicator.-error, RunIndicator.-stopped { background: $error-muted; color: $text-error; }
    RunIndicator.-pending { text-style: bold italic; }
    """

    status: reactive[str] = reactive("starting")
    pending: reactive[str] = reactive("")
    solved: reactive[bool] = reactive(False)  # a stopped run that found a solution
    held: reactive[bool] = reactive(False)  # solved, and the engine stopped training the task

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._clear_timer: Timer | None = None

    def render(self) -> str:
        narrow = self.has_class("-narrow")
        if self.pending:
            return f"… {self.pending.upper()}"
        if self.status == "solved" and self.held:  # not "running": nothing is being tried
            return "✔ SOLVED" if narrow else "✔ SOLVED · IDLE"
        if self.status == "stopped" and self.solved:
            return "✔ SOLVED" if narrow else "■ STOPPED · SOLVED"
        if narrow:
            return _SHORT.get(self.status) or _LABELS.get(self.status, self.status.upper())
        return _LABELS.get(self.status, self.status.upper())

    def watch_status(self, old: str, new: str) -> None:
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")
        self.pending = ""

    def watch_pending(self, pending: str) -> None:
        self.set_class(bool(pending), "-pending")
        if self._clear_timer is not None:
            self._clear_timer.stop()
            self._clear_timer = None
        if pending:  # commands that do not change the status (reinit, switch) clear on their own
            self._clear_timer = self.set_timer(PENDING_TIMEOUT, self._clear_pending)

    def _clear_pending(self) -> None:
        self._clear_timer = None
        self.pending = ""
