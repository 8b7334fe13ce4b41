"""Persistence: folders, the writer lock, atomic checkpoints, the run history and the log file.

    from engine.store import paths, Store, LockHeld, CheckpointMismatch

    with Store() as store:                      # LockHeld if another process writes
        state = store.load_task_state(task, expect={"vocab": vocab, "model": shape})
        run = store.runs.start_run(task, seed, algo, config)
        store.runs.log_metrics(run, step, {"rollout/score_mean": 0.4})
        store.save_task_state(task, state)
        store.runs.end_run(run, "solved", summary)

The Engine takes any `EngineStore` (protocols.py): `Store` here, `HistoryOnlyStore` for bench
runs (history only, checkpoints untouched), `engine.sweep.worker.RecordingStore` in sweep workers.

Nothing here imports torch until a checkpoint is read or written, so `paths`/`history` stay fast.
"""

from engine.store.adapters import HistoryOnlyStore
from engine.store.atomic import (
    atomic_write_bytes,
    atomic_write_text,
    atomic_writer,
    move_aside,
)
from engine.store.checkpoints import (
    CheckpointMismatch,
    CorruptCheckpoint,
    StoreReadOnly,
    read_checkpoint,
)
from engine.store.lock import LockHeld
from engine.store.logs import setup_logging
from engine.store.paths import Paths, paths
from engine.store.protocols import EngineStore, RunHistory
from engine.store.rundb import OUTCOMES, RunDB
from engine.store.store import Store

__all__ = [
    "OUTCOMES",
    "CheckpointMismatch",
    "CorruptCheckpoint",
    "EngineStore",
    "HistoryOnlyStore",
    "LockHeld",
    "Paths",
    "RunDB",
    "RunHistory",
    "Store",
    "StoreReadOnly",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_writer",
    "move_aside",
    "paths",
    "read_checkpoint",
    "setup_logging",
]
