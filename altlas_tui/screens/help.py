"""The help screen: every key (as currently bound) and what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = (
    "AltLAS learns to write Python from scratch: a small LSTM policy writes programs token by "
    "token, a sandbox runs them, the score trains the policy. Watch it here and steer it:"
)


class HelpScreen(ModalScreen[None]):
    """Lists the app's bindings with their current keys (after any rebinding in the config)."""

    BINDINGS = [
        Binding("escape,question_mark,f1", "close", "Close", id="help_close"),
    ]
    AUTO_FOCUS = "#help-dialog"  # so Up/Down/PageDown/End scroll it at once

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        width = max((len(k) for k, _ in self.rows), default=4) + 2
        table = Content("\n").join(
            Content.assemble((f"{key:>{width}}", "bold $text-accent"), "   ", description)
            for key, description in self.rows
        )
        # One scrolling dialog: at 24 rows the list does not fit, and every line must be reachable.
        with VerticalScroll(id="help-dialog", classes="dialog") as dialog:
            dialog.can_focus = True
            dialog.border_subtitle = "↑↓ PgUp PgDn scroll · Escape close"
            yield Static("AltLAS TUI — keys", id="help-title")
            yield Static(INTRO, id="help-intro")
            yield Static(table, id="help-keys")
            yield Static(
                "Ctrl+P: command palette (all commands, themes, screenshot) · Escape: close",
                id="help-foot",
            )

    def action_close(self) -> None:
        self.dismiss(None)
