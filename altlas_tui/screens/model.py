"""Model: weight statistics per layer, weight histogram, loss/entropy/gradient norm over time."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static

from altlas_tui.screens.base import SnapshotScreen
from altlas_tui.widgets.history_spark import HistorySpark
from altlas_tui.widgets.key_values import KeyValues
from altlas_tui.widgets.keyed_table import KeyedTable
from altlas_tui.widgets.series_plot import SeriesPlot
from engine.snapshot import Snapshot


class ModelScreen(SnapshotScreen):
    """The policy network's health; plots are redrawn at most once a second, and only here."""

    SCREEN_TITLE = "Model"

    def __init__(self) -> None:
        super().__init__()
        self._plot_timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="model-scroll"):
            with Horizontal(id="model-top"):
                with Vertical(id="layers-panel", classes="panel") as p:
                    p.border_title = "Weights per layer"
                    yield KeyedTable(
                        ["Layer", "Mean", "Std", "Min", "Max", "Near 0", "Grad norm"], id="layers"
                    )
                with Vertical(id="train-panel", classes="panel") as p:
                    p.border_title = "Training"
                    yield KeyValues(columns=1, label_width=14, id="train-stats")
                    yield Static("", id="health")
            if self.altlas.low_bandwidth:
                with Vertical(id="model-sparks", classes="panel") as p:
                    p.border_title = "Over recent batches (low-bandwidth mode: no plots)"
                    yield HistorySpark("loss", fmt="{:.4f}", id="spark-loss")
                    yield HistorySpark("entropy", fmt="{:.4f}", id="spark-entropy")
                    yield HistorySpark("grad norm", fmt="{:.4f}", id="spark-grad")
                    yield HistorySpark("weights hist", fmt="{:.0f}", id="spark-hist")
            else:
                with Grid(id="model-plots"):
                    yield SeriesPlot("Weight histogram", kind="bars", id="plot-hist")
                    yield SeriesPlot("Loss", id="plot-loss")
                    yield SeriesPlot("Entropy", id="plot-entropy")
                    yield SeriesPlot("Gradient norm", id="plot-grad")

    def on_mount(self) -> None:
        super().on_mount()
        if not self.altlas.low_bandwidth:
            self._plot_timer = self.set_interval(
                self.altlas.plot_interval, self.replot, name="plots"
            )
            self.replot()

    def on_screen_suspend(self) -> None:
        super().on_screen_suspend()
        if self._plot_timer is not None:
            self._plot_timer.pause()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        if self._plot_timer is not None:
            self._plot_timer.resume()
            self.replot()

    def apply_snapshot(self, snap: Snapshot) -> None:
        self.query_one("#layers", KeyedTable).sync(
            [
                (
                    ls.name,
                    (
                        f"{ls.mean:+.4f}",
                        f"{ls.std:.4f}",
                        f"{ls.min:+.3f}",
                        f"{ls.max:+.3f}",
                        f"{ls.near_zero:.1%}",
                        f"{ls.grad_norm:.4f}",
                    ),
                )
                for ls in snap.layer_stats
            ]
        )
        self.query_one("#train-stats", KeyValues).show(
            [
                ("learning rate", f"{snap.lr:.2e}"),
                ("loss", f"{snap.loss:.4f}"),
                ("entropy", f"{snap.entropy:.4f}"),
                ("grad norm", f"{snap.grad_norm:.4f}"),
                ("init method", snap.init_method or "—"),
                ("exploration", f"{snap.exploration_boost:.2f}"),
            ]
        )
        warnings = snap.health_warnings
        health = Content.assemble(
            ("health  ", "$text-muted"),
            (" · ".join(warnings), "$text-warning") if warnings else ("ok", "$text-success"),
        )
        self.query_one("#health", Static).update(health)
        if self.altlas.low_bandwidth:
            self.query_one("#spark-loss", HistorySpark).show(snap.loss_history)
            self.query_one("#spark-entropy", HistorySpark).show(snap.entropy_history)
            self.query_one("#spark-grad", HistorySpark).show(snap.grad_norm_history)
            self.query_one("#spark-hist", HistorySpark).show([c for _, c in snap.weight_histogram])

    def replot(self) -> None:
        """Hand the latest histories to the plots (each rebuilds only if its data changed)."""
        snap = self.altlas.bridge.snapshot
        with self.app.batch_update():
            hist = snap.weight_histogram
            self.query_one("#plot-hist", SeriesPlot).set_bars(
                [x for x, _ in hist], [c for _, c in hist]
            )
            self.query_one("#plot-loss", SeriesPlot).set_series({"loss": snap.loss_history})
            self.query_one("#plot-entropy", SeriesPlot).set_series(
                {"entropy": snap.entropy_history}
            )
            self.query_one("#plot-grad", SeriesPlot).set_series(
                {"grad norm": snap.grad_norm_history}
            )
