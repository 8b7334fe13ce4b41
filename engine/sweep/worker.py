"""Run one sweep spec anywhere (a pool process, a Ray worker) and report it as plain-dict records.

Records, in order, all carrying `"run": spec index`:
    {"type": "started", "pid", "host", "at"}
    {"type": "progress", "attempts", "best_score", "solved", "attempts_per_second",
     "metrics": [[step, {key: value}]], "best": [[step, score, code]], "events": [[step, kind, msg]]}
        at most one a `interval` seconds; together they carry every batch's metrics
    {"type": "summary", "outcome": solved|budget|stopped, "summary": train summary}   (last)
    {"type": "error", "message", "traceback", "summary"}                             (last)
The worker never opens the run store: the driver writes every record (one writer per data folder).
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.snapshot import Snapshot

PROGRESS_INTERVAL = 1.0  # seconds between progress records of one run

Emit = Callable[[dict[str, Any]], None]


class RecordingRuns:
    """A `RunHistory` inside a worker: keeps what the engine logs until `take` sends it."""

    def __init__(self) -> None:
        self.metrics: list[list[Any]] = []
        self.best: list[list[Any]] = []
        self.events: list[list[Any]] = []
        self.outcome: str | None = None
        self.summary: dict[str, Any] | None = None

    def start_run(
        self,
        task: str,
        seed: int,
        algo: str,
        config: dict[str, Any],
        kind: str = "sweep",
        start_step: int = 0,
    ) -> int:
        """The driver opens the real run when the first record arrives; this id is a placeholder."""
        return 1

    def log_metrics(self, run_id: int, step: int, metrics: dict[str, float]) -> None:
        self.metrics.append([int(step), {k: float(v) for k, v in metrics.items()}])

    def log_best(self, run_id: int, step: int, score: float, code: str) -> None:
        self.best.append([int(step), float(score), code])

    def log_event(self, run_id: int, step: int, kind: str, message: str) -> None:
        self.events.append([int(step), kind, message])

    def log_hint(
        self, run_id: int, step: int, text: str, forced: bool, effect: dict[str, Any]
    ) -> None:
        """Not recorded: sweep runs train without hints (`Engine(..., hints=None)`)."""

    def end_run(self, run_id: int, outcome: str, summary: dict[str, Any]) -> None:
        self.outcome = outcome
        self.summary = dict(summary)

    def flush(self) -> None:
        """Nothing to flush: records leave with the next progress message."""

    def take(self) -> dict[str, list[Any]]:
        """What was logged since the last call, for a progress record."""
        out = {"metrics": self.metrics, "best": self.best, "events": self.events}
        self.metrics, self.best, self.events = [], [], []
        return out


class RecordingStore:
    """The `EngineStore` of a sweep run: history is recorded, no checkpoint is read or written."""

    def __init__(self) -> None:
        self.runs = RecordingRuns()

    def load_task_state(
        self, task: str, expect: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        return None

    def save_task_state(self, task: str, state: dict[str, Any]) -> Path:
        return Path("(sweep: no checkpoint)")

    def archive_task_state(self, task: str) -> list[Path]:
        return []

    def set_last_task(self, name: str) -> None:
        """Sweep runs do not change which task `train` resumes."""


def run_spec(
    spec: dict[str, Any],
    emit: Emit,
    stop_requested: Callable[[], bool],
    interval: float = PROGRESS_INTERVAL,
) -> None:
    """Train on `spec` (a `RunSpec.to_dict()`), sending records through `emit`. Never raises
    for a failed run: the failure becomes an "error" record."""
    from engine.config import Config, apply
    from engine.control import Control

    run = spec["index"]
    emit({"type": "started", "run": run, "pid": os.getpid(), "host": socket.gethostname(),
          "at": time.time()})  # fmt: skip
    store = RecordingStore()
    control = Control()
    state = {"last": time.monotonic()}

    def progress(snap: Snapshot) -> dict[str, Any]:
        return {"type": "progress", "run": run, "attempts": snap.attempts,
                "best_score": snap.best_score, "solved": snap.solution is not None,
                "attempts_per_second": snap.attempts_per_second, **store.runs.take()}  # fmt: skip

    last_snap: list[Snapshot | None] = [None]

    def on_batch(snap: Snapshot) -> None:
        last_snap[0] = snap
        if stop_requested():
            control.stop()
        now = time.monotonic()
        if now - state["last"] >= interval:
            state["last"] = now
            emit(progress(snap))

    try:
        from engine.controller import Engine
        from engine.tasks import parse_task

        config = apply(Config(), spec["config"], "sweep spec")
        task = parse_task(spec["task_data"], spec["task_path"])
        engine = Engine(config, task, store=store, fresh=True, stop_on_solve=True, hints=None,
                        seed=spec["seed"], on_batch=on_batch)  # fmt: skip
        if stop_requested():
            control.stop()
        summary = engine.run(control, max_attempts=spec["max_attempts"])
    except Exception as exc:
        if last_snap[0] is not None:
            emit(progress(last_snap[0]))
        emit({"type": "error", "run": run, "message": f"{exc.__class__.__name__}: {exc}",
              "traceback": traceback.format_exc(), "summary": store.runs.summary})  # fmt: skip
        return
    if last_snap[0] is not None:
        emit(progress(last_snap[0]))
    outcome = store.runs.outcome or ("solved" if summary.solved else "budget")
    emit({"type": "summary", "run": run, "outcome": outcome, "summary": summary.to_json()})
