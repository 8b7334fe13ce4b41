"""A compact block of labelled values (counters, score breakdowns, model stats)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.events import Resize
from textual.widgets import Static

GAP = "   "


class KeyValues(Static):
    """Label/value pairs in up to `columns` columns — as many as fit the widget's width, so a
    narrow terminal gets fewer columns instead of wrapped values; re-rendered only on change."""

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
        self._layout: tuple | None = None

    def show(self, items: Sequence[tuple[str, str]]) -> None:
        items = tuple((str(k), str(v)) for k, v in items)
        if items == self._items:
            return
        self._items = items
        self._render_items()

    def on_resize(self, event: Resize) -> None:
        self._render_items()

    def _render_items(self) -> None:
        items = self._items
        value_width = max((len(v) for _, v in items), default=0)
        label_width = max([self.label_width] + [len(k) + 1 for k, _ in items])
        cell = label_width + value_width
        width = self.content_size.width or 10_000  # not laid out yet: the widest layout
        columns = max(1, min(self.columns, (width + len(GAP)) // (cell + len(GAP))))
        if cell > width:  # not even one column fits: tighten the labels to what they need
            label_width = max([len(k) + 1 for k, _ in items], default=1)
        layout = (items, columns, label_width)
        if layout == self._layout:
            return
        self._layout = layout
        cells = [
            Content.assemble(
                (f"{label:<{label_width}}", "$text-muted"),
                (f"{value:>{value_width}}", "bold"),
            )
            for label, value in items
        ]
        rows = [cells[i : i + columns] for i in range(0, len(cells), columns)]
        self.update(Content("\n").join(Content(GAP).join(row) for row in rows))
