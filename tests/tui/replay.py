"""An engine that replays one snapshot recorded from the real engine (tests/tui/data).

The UI's pictures are taken over what the real engine publishes, not over the fake's guesses;
`record_real_snapshot()` rebuilds the fixture after the snapshot's fields change.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

from engine.control import Control
from engine.events import Event
from engine.snapshot import Snapshot, snapshot_from_dict, snapshot_to_dict
from engine.summary import RunSummary

FIXTURE = Path(__file__).parent / "data" / "real_snapshot.json"


def real_snapshot(**changes) -> Snapshot:
    snap = snapshot_from_dict(json.loads(FIXTURE.read_text(encoding="utf-8")))
    return dataclasses.replace(snap, **changes) if changes else snap


class ReplayEngine:
    """Publishes one fixed snapshot until stopped (the EngineLike interface)."""

    def __init__(self, snap: Snapshot, on_event: Callable[[Event], None] | None = None) -> None:
        self.snapshot = dataclasses.replace(snap, status="starting")
        self._snap = snap
        self.on_event = on_event

    def run(self, control: Control, max_attempts=None, max_seconds=None) -> RunSummary:
        self.snapshot = self._snap
        if self.on_event is not None:
            self.on_event(Event("started", f"resumed {self._snap.task_name} at 320 attempts", {}))
        while not control.stopping:
            control.drain()
            control.wait(0.05)
        return self.summary()

    def summary(self) -> RunSummary:
        s = self.snapshot
        return RunSummary(task=s.task_name, seed=s.seed, algo=s.algo, attempts=s.attempts)


def record_real_snapshot() -> None:  # pragma: no cover - run by hand: python -m tests.tui.replay
    from engine.config import Config
    from engine.controller import Engine

    cfg = Config()
    cfg.train.batch_size, cfg.train.seed = 32, 0
    engine = Engine(cfg, "add_two_numbers")
    control = Control()
    batches = [0]

    def on_batch(_snap) -> None:
        batches[0] += 1
        if batches[0] == 10:
            control.force_hint()

    engine.on_batch = on_batch
    engine.run(control, max_attempts=32 * 40)
    data = snapshot_to_dict(engine.snapshot)
    data.update(status="running", elapsed=round(data["elapsed"], 1), last_checkpoint=None)
    data["attempts_per_second"] = round(data["attempts_per_second"])
    FIXTURE.write_text(json.dumps(data, indent=0), encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    record_real_snapshot()
