"""What the engine needs of persistence, as typed protocols: the run history and task state.

The Engine takes any `EngineStore`. Implementations:
    engine.store.Store                   the data folder (checkpoints + run database)
    engine.store.HistoryOnlyStore        bench runs: history in the run database, no checkpoints
    engine.sweep.worker.RecordingStore   sweep workers: records sent to the driver, no files
Each is checked against these protocols by mypy and by tests/test_store_protocols.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class RunHistory(Protocol):
    """Where a run's history goes: start, per-step metrics, best programs, hints, events, end."""

    def start_run(
        self,
        task: str,
        seed: int,
        algo: str,
        config: dict[str, Any],
        kind: str = "train",
        start_step: int = 0,
    ) -> int:
        """Record a new run; returns its id."""
        ...

    def log_metrics(self, run_id: int, step: int, metrics: dict[str, float]) -> None: ...

    def log_best(self, run_id: int, step: int, score: float, code: str) -> None: ...

    def log_hint(
        self, run_id: int, step: int, text: str, forced: bool, effect: dict[str, Any]
    ) -> None: ...

    def log_event(self, run_id: int, step: int, kind: str, message: str) -> None: ...

    def end_run(self, run_id: int, outcome: str, summary: dict[str, Any]) -> None:
        """Close a run: outcome solved|budget|stopped|error, summary = RunSummary.to_json()."""
        ...

    def flush(self) -> None:
        """Make everything logged so far durable (or sent)."""
        ...


@runtime_checkable
class EngineStore(Protocol):
    """Task checkpoints plus the run history: everything the Engine persists."""

    @property
    def runs(self) -> RunHistory: ...

    def load_task_state(
        self, task: str, expect: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The task's newest state, or None; CheckpointMismatch if `expect` differs."""
        ...

    def save_task_state(self, task: str, state: dict[str, Any]) -> Path:
        """Save a task's state (plain data, see engine/store/checkpoints.py); returns where."""
        ...

    def archive_task_state(self, task: str) -> list[Path]:
        """Move the task's saved state aside for a fresh start; returns the moved files."""
        ...

    def set_last_task(self, name: str) -> None:
        """Remember the task the person trained last."""
        ...
