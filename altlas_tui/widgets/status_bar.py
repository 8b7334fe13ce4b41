"""The top line of every screen: app and screen name, run indicator, task and progress."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from altlas_tui.widgets.run_indicator import RunIndicator
from engine.snapshot import Snapshot


class _Info(Static):
    """The progress line; it picks the variant that fits whenever its own width changes."""

    def on_resize(self) -> None:
        bar = self.parent
        if isinstance(bar, StatusBar):
            bar._refit()


class StatusBar(Horizontal):
    """App name, current screen, the run indicator and a short progress line."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        dock: top;
        background: $panel;
    }
    StatusBar > #sb-title { width: auto; padding: 0 1; text-style: bold; color: $text-primary; }
    StatusBar > #sb-info { width: 1fr; padding: 0 1; color: $text-muted; text-wrap: nowrap; }
    """

    NARROW = 100  # below this many columns: short title and indicator, the info that fits

    def __init__(self, screen_title: str) -> None:
        super().__init__()
        self.screen_title = screen_title
        self._info = ""
        self._snap: Snapshot | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"AltLAS · {self.screen_title}", id="sb-title")
        yield RunIndicator()
        yield _Info("", id="sb-info")

    @property
    def indicator(self) -> RunIndicator:
        return self.query_one(RunIndicator)

    def on_resize(self) -> None:
        narrow = self.size.width < self.NARROW
        self.indicator.set_class(narrow, "-narrow")
        title = self.screen_title if narrow else f"AltLAS · {self.screen_title}"
        self.query_one("#sb-title", Static).update(title)  # the info line refits on its resize

    def _refit(self) -> None:
        if self._snap is not None:
            self._info = ""
            self.show(self._snap)

    def show(self, snap: Snapshot) -> None:
        self._snap = snap
        self.indicator.status = snap.status
        self.indicator.solved = snap.solution is not None
        self.indicator.held = snap.training_stopped
        room = self.query_one("#sb-info").content_size.width or 200
        info = next((v for v in info_variants(snap) if len(v) <= room), info_variants(snap)[-1])
        if info != self._info:
            self._info = info
            self.query_one("#sb-info", Static).update(Content(info))  # names are data, not markup


def info_variants(snap: Snapshot) -> list[str]:
    """The header's progress line, longest first: the task, attempts and best score always fit
    at 80 columns; the batch and the task's total attempts come when there is room."""
    total = ""
    if snap.total_attempts > snap.attempts:
        total = f" ({snap.total_attempts:,} total)"
    full = (
        f"task {snap.task_name} · {snap.attempts:,} attempts{total} · best {snap.best_score:.3f}"
        f" · batch {snap.batch:,}"
    )
    mid = f"task {snap.task_name} · {snap.attempts:,} attempts{total} · best {snap.best_score:.3f}"
    short = f"{snap.task_name} · {snap.attempts:,} att · best {snap.best_score:.3f}"
    tiny = f"{snap.task_name} · {snap.attempts:,}"
    return [full, mid, short, tiny]
