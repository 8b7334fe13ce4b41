"""A plotext line or bar plot of a few series, thinned to the widget's width and cached."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot


def thin(values: Sequence[float], width: int) -> list[float]:
    """At most `width` points: the mean of each of `width` equal slices (keeps the shape)."""
    n = len(values)
    width = max(1, width)
    if n <= width:
        return list(values)
    out: list[float] = []
    for i in range(width):
        lo, hi = i * n // width, max((i + 1) * n // width, i * n // width + 1)
        chunk = values[lo:hi]
        out.append(sum(chunk) / len(chunk))
    return out


class SeriesPlot(PlotextPlot):
    """`set_series({name: values})` or `set_bars(xs, ys)`; the plot is rebuilt only on new data,
    a new size or a new theme, never on a plain repaint."""

    def __init__(self, title: str, kind: str = "lines", **kwargs) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.kind = kind
        self._series: dict[str, tuple[float, ...]] = {}
        self._bars: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
        self._version = 0
        self._cache_key: tuple | None = None
        self._cache: Text | None = None
        self.builds = 0  # plot builds, for tests and benchmarks

    def set_series(self, series: dict[str, Sequence[float]]) -> None:
        series = {k: tuple(v) for k, v in series.items()}
        if series != self._series:
            self._series = series
            self._version += 1
            self.refresh()

    def set_bars(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        bars = (tuple(xs), tuple(ys))
        if bars != self._bars:
            self._bars = bars
            self._version += 1
            self.refresh()

    def _draw(self) -> None:
        # A fresh figure each time: plotext keeps layout state across builds of different sizes,
        # which made the same data draw different axis ticks depending on the resize history.
        self._plot = Plot()
        plt = self.plt
        plt.title(self.title)
        width = max(10, self.size.width - 10)
        if self.kind == "bars":
            xs, ys = self._bars
            if xs:
                # Integer positions and our own tick labels: plotext's automatic labels for
                # float bars vary between processes.
                positions = list(range(len(xs)))
                plt.bar(positions, list(ys), width=0.8)
                # few enough labels that they never collide: plotext drops colliding ones
                # differently from run to run (narrow plots had unstable axes)
                step = max(1, len(xs) // max(2, min(6, width // 12)))
                ticks = positions[::step]
                plt.xticks(ticks, [f"{xs[i]:.2f}" for i in ticks])
            return
        drawn = False
        for name, values in self._series.items():
            if values:
                ys = thin(values, width)
                plt.plot(list(range(len(ys))), ys, label=name, marker="braille")
                drawn = True
        if not drawn:
            plt.text("waiting for data", 0, 0)

    def render(self) -> RenderResult:
        key = (self._version, self.size.width, self.size.height, self.app.theme)
        if key != self._cache_key or self._cache is None:
            self._draw()
            self._cache = super().render()  # type: ignore[assignment]
            self._cache_key = key
            self.builds += 1
        return self._cache
