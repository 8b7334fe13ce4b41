"""Progress of headless runs: a rich bar on a terminal that fits its width and redraws in place,
or JSON progress lines on stdout (`--json`)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Column

JSON_EVERY = 1.0  # seconds between JSON progress lines
BAR_EVERY = 0.2  # seconds between bar redraws


class RunProgress:
    """Call with each engine snapshot (from the engine's `on_batch`); `close()` at the end.

    `on_broken_pipe` is called once when stdout was closed by the reader (`train | head -1`).
    """

    def __init__(
        self,
        json_lines: bool,
        max_attempts: int | None,
        max_seconds: float | None,
        label: str = "",
        on_broken_pipe: Callable[[], None] | None = None,
    ) -> None:
        self.json_lines = json_lines
        self.max_attempts, self.max_seconds = max_attempts, max_seconds
        self.on_broken_pipe = on_broken_pipe
        self.broken = False
        self.last = 0.0
        self.console = Console(stderr=True)
        self.bar: Progress | None = None
        if not json_lines and self.console.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description}", table_column=Column(no_wrap=True)),
                BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=10)),
                TaskProgressColumn(),
                TextColumn(
                    "{task.fields[stats]}",
                    table_column=Column(no_wrap=True, overflow="ellipsis", ratio=3),
                ),
                TimeElapsedColumn(),
                console=self.console,
                auto_refresh=False,  # redrawn from the engine's callback, no extra thread
                transient=True,
                expand=True,
            )
            total = max_attempts if max_attempts else (max_seconds if max_seconds else None)
            self.task_id = self.bar.add_task(label.strip() or "training", total=total, stats="")
            self.bar.start()

    def __call__(self, snap) -> None:
        now = time.monotonic()
        if now - self.last < (JSON_EVERY if self.json_lines else BAR_EVERY):
            return
        self.last = now
        if self.json_lines:
            self._json(snap)
        elif self.bar is not None:
            done = snap.attempts if self.max_attempts else snap.elapsed
            stats = (
                f"{snap.attempts:,} att · {snap.attempts_per_second:,.0f}/s · "
                f"best {snap.best_score:.3f} · uniq {snap.unique_programs:,} · "
                f"hints {snap.hints_provided}"
            )
            self.bar.update(self.task_id, completed=done, stats=stats)
            self.bar.refresh()

    def _json(self, snap) -> None:
        if self.broken:
            return
        line = json.dumps({
            "event": "progress", "task": snap.task_name, "attempts": snap.attempts,
            "total_attempts": snap.total_attempts, "best_score": round(snap.best_score, 4),
            "score_mean": round(snap.score_history[-1], 4) if snap.score_history else 0.0,
            "attempts_per_second": round(snap.attempts_per_second, 1),
            "unique_programs": snap.unique_programs, "hints_provided": snap.hints_provided,
            "solved": snap.solution is not None,
        })  # fmt: skip
        self.emit(line)

    def emit(self, line: str) -> bool:
        """Print one line on stdout; False (and the run told to stop) if the reader is gone."""
        if self.broken:
            return False
        try:
            print(line, flush=True)
            return True
        except BrokenPipeError:
            self.broken = True
            silence_stdout()
            if self.on_broken_pipe is not None:
                self.on_broken_pipe()
            return False

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not raise again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def print_out(text: str) -> bool:
    """print() to stdout that survives a closed pipe; False when the reader was gone."""
    try:
        print(text, flush=True)
        return True
    except OSError:  # a closed pipe, or a terminal that hung up (EIO after SIGHUP)
        silence_stdout()
        return False
