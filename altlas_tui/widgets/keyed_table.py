"""A DataTable synchronised from plain rows: keyed, updated cell by cell only where changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey


def _cell(value: Any) -> Any:
    """Strings become plain Text: no markup parsing (tokens such as `[` are data, not markup),
    and Textual skips the per-cell markup pass on every render."""
    return Text(value) if isinstance(value, str) else value


class KeyedTable(DataTable):
    """`sync(rows)` adds, removes, updates and orders rows; unchanged cells are left alone.

    The first column holds each row's key (shown), so the requested order can be restored with
    `DataTable.sort` without touching private state.
    """

    DEFAULT_CSS = """
    KeyedTable { height: 1fr; }
    """

    def __init__(self, columns: Sequence[str], **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self._column_names = tuple(columns)
        self._cells: dict[str, tuple[Any, ...]] = {}
        self._order: list[str] = []
        self.cell_updates = 0  # how many cells were written, for tests and benchmarks

    def on_mount(self) -> None:
        for i, name in enumerate(self._column_names):
            self.add_column(name, key=f"c{i}")

    def sync(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Make the table show `rows` ((key, cells-after-the-key) pairs) in the given order."""
        wanted = {key: (key, *cells) for key, cells in rows}
        for key in [k for k in self._cells if k not in wanted]:
            self.remove_row(key)
            del self._cells[key]
        for key, cells in wanted.items():
            old = self._cells.get(key)
            if old is None:
                self.add_row(*(_cell(c) for c in cells), key=key)
                self.cell_updates += len(cells)
            elif old != cells:
                for i, (a, b) in enumerate(zip(old, cells, strict=True)):
                    if a != b:
                        # Re-measuring a column costs a pass over all its cells: only when the
                        # new value is wider than the column already is.
                        column = self.columns[ColumnKey(f"c{i}")]
                        wider = cell_len(str(b)) > column.content_width
                        self.update_cell(key, f"c{i}", _cell(b), update_width=wider)
                        self.cell_updates += 1
            self._cells[key] = cells
        order = [key for key, _ in rows]
        if order != self._order:
            self._order = order
            index = {key: i for i, key in enumerate(order)}
            self.sort("c0", key=lambda k: index.get(str(k), len(index)))
