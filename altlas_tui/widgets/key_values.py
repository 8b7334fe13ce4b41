"""A compact block of labelled values (counters, score breakdowns, model stats)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widgets import Static


class KeyValues(Static):
    """Label/value pairs laid out in `columns` columns; re-rendered only when a value changes."""

    DEFAULT_CSS = """
    KeyValues {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, columns: int = 1, label_width: int = 14, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.columns = max(1, columns)
        self.label_width = label_width
        self._items: tuple[tuple[str, str], ...] = ()

    def show(self, items: Sequence[tuple[str, str]]) -> None:
        items = tuple((str(k), str(v)) for k, v in items)
        if items == self._items:
            return
        self._items = items
        value_width = max((len(v) for _, v in items), default=0)
        label_width = max([self.label_width] + [len(k) + 1 for k, _ in items])
        cells = [
            Content.assemble(
                (f"{label:<{label_width}}", "$text-muted"),
                (f"{value:>{value_width}}", "bold"),
            )
            for label, value in items
        ]
        rows = [cells[i : i + self.columns] for i in range(0, len(cells), self.columns)]
        self.update(Content("\n").join(Content("   ").join(row) for row in rows))
