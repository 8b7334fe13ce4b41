"""A labelled sparkline over a bounded history, with its latest value."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static


class HistorySpark(Horizontal):
    """`label  ▁▂▄▆█  latest` for one history series."""

    DEFAULT_CSS = """
    HistorySpark { height: 1; }
    HistorySpark > .hs-label { width: 14; color: $text-muted; padding-left: 1; }
    HistorySpark > Sparkline { width: 1fr; }
    HistorySpark > .hs-value { width: 9; text-align: right; padding-right: 1; }
    """

    def __init__(self, label: str, fmt: str = "{:.3f}", **kwargs) -> None:
        super().__init__(**kwargs)
        self.label = label
        self.fmt = fmt
        self._data: tuple[float, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.label, classes="hs-label")
        yield Sparkline([], summary_function=max)
        yield Static("—", classes="hs-value")

    def show(self, data: Sequence[float]) -> None:
        data = tuple(data)
        if data == self._data:
            return
        self._data = data
        spark = self.query_one(Sparkline)
        # Sparkline scales from the series' own minimum, so a flat series sits on the floor and
        # reads as "zero": scale a flat positive series from zero instead (full-height bars).
        flat = len(data) > 1 and len(set(data)) == 1 and data[0] > 0
        spark.data = [0.0, *data] if flat else list(data)
        self.query_one(".hs-value", Static).update(self.fmt.format(data[-1]) if data else "—")
