"""Widgets in isolation: keyed table updates, plot thinning, command palette entries."""

from __future__ import annotations

from textual.app import App, ComposeResult

from altlas_tui.widgets.keyed_table import KeyedTable
from altlas_tui.widgets.series_plot import thin

from .conftest import SIZE


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield KeyedTable(["Token", "Count"])


async def test_keyed_table_updates_only_changed_cells_and_keeps_order():
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(KeyedTable)
        table.sync([("a", ("3",)), ("b", ("2",)), ("c", ("1",))])
        await pilot.pause()
        assert table.cell_updates == 6
        table.sync([("a", ("3",)), ("b", ("2",)), ("c", ("1",))])
        assert table.cell_updates == 6  # nothing changed, nothing written
        table.sync([("c", ("9",)), ("a", ("3",)), ("d", ("0",))])
        await pilot.pause()
        assert table.cell_updates == 6 + 1 + 2  # one changed cell, one new row
        assert [str(r.key.value) for r in table.ordered_rows] == ["c", "a", "d"]
        assert [str(c) for c in table.get_row("c")] == ["c", "9"]
        assert table.row_count == 3


def test_thin_keeps_at_most_width_points_and_the_shape():
    values = [float(i) for i in range(1000)]
    out = thin(values, 50)
    assert len(out) == 50
    assert out == sorted(out) and out[0] < 20 and out[-1] > 980
    assert thin([1.0, 2.0], 50) == [1.0, 2.0]


async def test_every_command_is_in_the_palette(harness):
    app = harness.app()
    async with app.run_test(size=SIZE):
        titles = {cmd.title for cmd in app.get_system_commands(app.screen)}
    for title in ("Pause / resume", "Force a hint", "Reinitialise weights", "Save checkpoint",
                  "Help", "Theme", "Quit", "Screen: Dashboard", "Screen: Log"):  # fmt: skip
        assert title in titles
