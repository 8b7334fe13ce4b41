"""Log: the engine's log and events (bounded), filtered by level."""

from __future__ import annotations

import logging

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Select, Static

from altlas_tui.screens.base import SnapshotScreen
from altlas_tui.widgets.level_log import LevelLog

LEVELS = (
    ("debug", logging.DEBUG),
    ("info", logging.INFO),
    ("warning", logging.WARNING),
    ("error", logging.ERROR),
)


class LogScreen(SnapshotScreen):
    """Everything the "altlas" logger said, newest at the bottom."""

    SCREEN_TITLE = "Log"
    AUTO_FOCUS = "#log"
    BINDINGS = [
        Binding("l", "cycle_level", "Level", id="log_level"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._seen = 0  # app.log_seq already shown

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="log-bar"):
            yield Static("minimum level", id="log-level-label")
            yield Select(
                [(name, level) for name, level in LEVELS],
                value=logging.DEBUG,
                allow_blank=False,
                id="log-level",
            )
            yield Static("", id="log-count")
        yield LevelLog(max_lines=self.altlas.log_lines.maxlen or 2000, id="log")

    def on_mount(self) -> None:
        super().on_mount()
        self.rebuild()

    @property
    def level(self) -> int:
        return self.query_one(LevelLog).min_level

    def set_level(self, level: int) -> None:
        self.query_one("#log-level", Select).value = level

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "log-level" and isinstance(event.value, int):
            self.query_one(LevelLog).min_level = event.value
            self.rebuild()

    def action_cycle_level(self) -> None:
        values = [level for _, level in LEVELS]
        i = values.index(self.level) if self.level in values else 0
        self.set_level(values[(i + 1) % len(values)])

    def rebuild(self) -> None:
        app = self.altlas
        self.query_one(LevelLog).rebuild(app.log_lines)
        self._seen = app.log_seq
        self._count()

    def add_line(self, levelno: int, text: str) -> None:
        """A new line arrived while this screen is shown."""
        self.query_one(LevelLog).add(levelno, text)
        self._seen = self.altlas.log_seq
        self._count()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if self._seen != self.altlas.log_seq:
            self.rebuild()

    def _count(self) -> None:
        shown = sum(1 for lv, _ in self.altlas.log_lines if lv >= self.level)
        self.query_one("#log-count", Static).update(
            f"{shown:,} of {len(self.altlas.log_lines):,} lines"
        )
