"""A bounded, level-filtered log view fed from a shared buffer of (level, text) lines."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from rich.style import Style
from rich.text import Text
from textual.widgets import RichLog

# level -> (theme variable for the colour, bold)
_LEVEL_STYLE = {
    logging.DEBUG: ("foreground-darken-2", False),
    logging.WARNING: ("warning", False),
    logging.ERROR: ("error", True),
    logging.CRITICAL: ("error", True),
}


class LevelLog(RichLog):
    """Shows lines at or above `min_level`; `rebuild(lines)` re-filters the whole buffer.

    Colours come from the current theme's variables at write time (RichLog holds Rich text).
    """

    def __init__(self, max_lines: int = 2000, **kwargs) -> None:
        kwargs.setdefault("wrap", False)
        kwargs.setdefault("markup", False)
        super().__init__(max_lines=max_lines, **kwargs)
        self.min_level = logging.DEBUG

    def _style(self, levelno: int) -> Style | None:
        spec = _LEVEL_STYLE.get(levelno)
        if spec is None:
            return None
        colour = self.app.theme_variables.get(spec[0])
        try:
            return Style(color=colour, bold=spec[1]) if colour else Style(bold=spec[1])
        except Exception:  # noqa: BLE001 - an odd theme value must not break logging
            return None

    def add(self, levelno: int, text: str) -> None:
        if levelno >= self.min_level:
            self.write(Text(text, style=self._style(levelno) or ""))

    def rebuild(self, lines: Iterable[tuple[int, str]]) -> None:
        self.clear()
        for levelno, text in lines:
            self.add(levelno, text)
        # after a filter change, show the newest lines (where the reader was), not the top
        self.scroll_end(animate=False, immediate=False)
