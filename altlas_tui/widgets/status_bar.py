"""The top line of every screen: app and screen name, run indicator, task and progress."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from altlas_tui.widgets.run_indicator import RunIndicator
from engine.snapshot import Snapshot


class StatusBar(Horizontal):
    """App name, current screen, the run indicator and a short progress line."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        dock: top;
        background: $panel;
    }
    StatusBar > #sb-title { width: auto; padding: 0 1; text-style: bold; color: $text-primary; }
    StatusBar > #sb-info { width: 1fr; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, screen_title: str) -> None:
        super().__init__()
        self.screen_title = screen_title
        self._info = ""

    def compose(self) -> ComposeResult:
        yield Static(f"AltLAS · {self.screen_title}", id="sb-title")
        yield RunIndicator()
        yield Static("", id="sb-info")

    @property
    def indicator(self) -> RunIndicator:
        return self.query_one(RunIndicator)

    def show(self, snap: Snapshot) -> None:
        self.indicator.status = snap.status
        info = (
            f"task {snap.task_name} · batch {snap.batch:,} · {snap.attempts:,} attempts"
            f" · best {snap.best_score:.3f}"
        )
        if info != self._info:
            self._info = info
            self.query_one("#sb-info", Static).update(Content(info))  # names are data, not markup
