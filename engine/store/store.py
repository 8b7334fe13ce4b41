"""The Store: one object owning the writer lock, the checkpoints and the run database."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from engine.store.atomic import atomic_write_text, remove_stray_temp_files
from engine.store.checkpoints import Checkpoints, StoreReadOnly, file_stem
from engine.store.lock import WriterLock
from engine.store.paths import Paths, paths
from engine.store.rundb import RunDB

log = logging.getLogger("altlas.store")


class Store:
    """Everything that survives a restart, for one data folder.

    A writing Store takes the single-writer lock (LockHeld if another process has it), sweeps
    temp files left by a killed writer and opens the run database, moving a damaged one aside.
    `Store(read_only=True)` takes no lock, writes nothing and can run next to a writer.
    `notices` collects warnings worth showing to the person (files moved aside, fallbacks).
    """

    def __init__(
        self, read_only: bool = False, *, command: str | None = None, where: Paths | None = None
    ) -> None:
        self.paths = where if where is not None else paths()
        self.read_only = read_only
        self.notices: list[str] = []
        self._lock: WriterLock | None = None
        if not read_only:
            self._lock = WriterLock(self.paths.lock_file, command)
            self._lock.acquire()
        try:
            if not read_only:
                for folder in (self.paths.checkpoints, self.paths.state, self.paths.failure_memory):
                    remove_stray_temp_files(folder)
            self.checkpoints = Checkpoints(self.paths.checkpoints, not read_only, self.notices)
            self.runs = RunDB(self.paths.db_file, read_only=read_only, notices=self.notices)
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        log.debug(
            "store opened (%s) at %s", "read-only" if read_only else "writer", self.paths.data
        )

    # ---- checkpoints -----------------------------------------------------------------------

    def save_task_state(self, task: str, state: dict[str, Any]) -> Path:
        """Save a task's state atomically (flushing the run database first); returns the file.

        Put {"vocab": [...], "model": {...}} under state["meta"] so a later load can refuse a
        checkpoint trained with other settings.
        """
        self.runs.flush()  # the history is never behind the checkpoint it belongs to
        return self.checkpoints.save(task, state)

    def load_task_state(self, task: str, expect: dict[str, Any] | None = None) -> dict | None:
        """The task's newest complete state, or None. CheckpointMismatch if `expect` differs."""
        return self.checkpoints.load(task, expect)

    def archive_task_state(self, task: str) -> list[Path]:
        """Move the task's checkpoints aside (`<name>.old-<timestamp>`), e.g. for `--fresh`."""
        return self.checkpoints.archive(task)

    def checkpoint_path(self, task: str) -> Path:
        return self.checkpoints.path_for(task)

    def saved_tasks(self) -> list[str]:
        return self.checkpoints.saved_tasks()

    def failure_memory_path(self, task: str) -> Path:
        """Where the task's failure memory lives (data folder); the folder exists."""
        if not self.read_only:
            self.paths.failure_memory.mkdir(parents=True, exist_ok=True)
        return self.paths.failure_memory / f"{file_stem(task)}.json"

    # ---- last task -------------------------------------------------------------------------

    def last_task(self) -> str | None:
        try:
            name = self.paths.last_task_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return name if name and "\n" not in name else None

    def set_last_task(self, name: str) -> None:
        if self.read_only:
            raise StoreReadOnly("this Store is read-only")
        if not name or "\n" in name:
            raise ValueError(f"bad task name {name!r}")
        atomic_write_text(self.paths.last_task_file, name + "\n")

    # ---- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Flush and close the database, release the lock. Safe to call twice."""
        try:
            self.runs.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
