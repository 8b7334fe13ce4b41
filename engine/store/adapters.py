"""Stores for runs that must not touch the person's task checkpoints (bench)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.store.protocols import RunHistory


class KindRuns:
    """A run history that records every run under one kind (e.g. "bench"), whatever is asked."""

    def __init__(self, runs: RunHistory, kind: str) -> None:
        self._runs = runs
        self.kind = kind

    def start_run(
        self,
        task: str,
        seed: int,
        algo: str,
        config: dict[str, Any],
        kind: str = "train",
        start_step: int = 0,
    ) -> int:
        """Start a run of `self.kind` (the requested kind is ignored on purpose)."""
        return self._runs.start_run(task, seed, algo, config, kind=self.kind, start_step=start_step)

    def log_metrics(self, run_id: int, step: int, metrics: dict[str, float]) -> None:
        self._runs.log_metrics(run_id, step, metrics)

    def log_best(self, run_id: int, step: int, score: float, code: str) -> None:
        self._runs.log_best(run_id, step, score, code)

    def log_hint(
        self, run_id: int, step: int, text: str, forced: bool, effect: dict[str, Any]
    ) -> None:
        self._runs.log_hint(run_id, step, text, forced, effect)

    def log_event(self, run_id: int, step: int, kind: str, message: str) -> None:
        self._runs.log_event(run_id, step, kind, message)

    def end_run(self, run_id: int, outcome: str, summary: dict[str, Any]) -> None:
        self._runs.end_run(run_id, outcome, summary)

    def flush(self) -> None:
        self._runs.flush()


class HistoryOnlyStore:
    """Bench runs: history goes to the real run database as `kind`; checkpoints are never read,
    written or moved, so benchmarking a task never disturbs the person's training of it."""

    def __init__(self, runs: RunHistory, kind: str = "bench") -> None:
        self._runs = KindRuns(runs, kind)

    @property
    def runs(self) -> KindRuns:
        return self._runs

    def load_task_state(
        self, task: str, expect: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        return None

    def save_task_state(self, task: str, state: dict[str, Any]) -> Path:
        return Path(f"({self._runs.kind}: no checkpoint)")

    def archive_task_state(self, task: str) -> list[Path]:
        return []

    def set_last_task(self, name: str) -> None:
        """Bench runs do not change which task `train` resumes."""
