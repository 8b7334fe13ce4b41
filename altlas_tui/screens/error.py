"""Shown when the engine fails: the error and its traceback; the app stays alive."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class ErrorScreen(ModalScreen[None]):
    """The engine stopped with an error. Escape returns to the last picture, q quits."""

    BINDINGS = [
        Binding("escape", "dismiss_error", "Back", id="error_back"),
        Binding("q", "app.quit", "Quit", id="error_quit", show=False),
    ]

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__()
        self.message = message
        self.details = details

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog", classes="dialog"):
            yield Static("The engine stopped with an error", id="error-title")
            yield Static(Content(self.message), id="error-message")
            with VerticalScroll(id="error-details"):
                yield Static(Content(self.details or "(no traceback)"))
            yield Static(
                "The last good state was saved when possible (see the Log screen and the log "
                "file). Escape: back to the last picture · q: quit",
                id="error-help",
            )

    def on_mount(self) -> None:
        self.query_one("#error-details").scroll_end(animate=False)  # the last frames matter most

    def action_dismiss_error(self) -> None:
        self.dismiss(None)
