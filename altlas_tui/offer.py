"""After a solve: the offer to start the next unsolved task, keep training, or stay.

The engine stops training a task at its solve (unless `[search] keep_training_after_solve`) and
publishes `training_stopped` in its snapshot. Whenever a shown snapshot says so, `SolvedOffers`
works out the next unsolved task off the UI thread (catalogue + run history + this session) and
every screen shows the offer in its `OfferBar` until it is taken, declined or overtaken.
Driven by the snapshot, not by the `solved` event, so a viewer that attaches after the solve,
or a task that was solved in an earlier run, gets the same offer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from altlas_tui.screens import tasks as task_screen
from altlas_tui.screens.tasks import TaskRow, short_name
from engine.snapshot import Snapshot

if TYPE_CHECKING:
    from altlas_tui.app import AltlasApp

log = logging.getLogger("altlas.tui")

DIFFICULTY_ORDER = {"beginner": 0, "intermediate": 1, "advanced": 2}


@dataclass(frozen=True)
class Offer:
    """What the offer bar shows for one held solve."""

    task: str
    attempts: int | None
    next_task: str | None  # None: every other task of this language is solved
    steer: bool  # False for a read-only viewer: it sees the state, it cannot choose
    earlier: bool = False  # solved in an earlier run (resumed already solved)


def held_solve(snap: Snapshot) -> bool:
    """The engine solved the task and stopped training it (waiting for a choice)."""
    return snap.status == "solved" and snap.training_stopped


def next_unsolved(current: str, tasks: Iterable[TaskRow], solved: set[str]) -> str | None:
    """The next task to offer: unsolved, the current task's language, easiest first, and after
    the current task in that order (then wrapping round to the unsolved ones before it)."""
    rows = list(tasks)
    language = next((t.language for t in rows if t.name == current), "python")
    order = sorted(
        (t for t in rows if t.language == language),
        key=lambda t: (DIFFICULTY_ORDER.get(t.difficulty, 3), t.name),
    )
    names = [t.name for t in order]
    start = names.index(current) + 1 if current in names else 0
    for name in names[start:] + names[:start]:
        if name != current and name not in solved:
            return name
    return None


def solved_in_history(task: str) -> int | None:
    """Attempts to solve in the latest run that solved `task` (read-only, no lock), or None."""
    try:
        from engine.store import Store

        reader = Store(read_only=True)
    except Exception:  # noqa: BLE001 - no history is not an error
        return None
    try:
        # the latest run that found the solution (runs that resumed it solved have no count)
        found = [r["attempts_to_solve"] for r in reader.runs.list_runs(task=task)
                 if r.get("solved") and r.get("attempts_to_solve")]  # fmt: skip
        return int(found[-1]) if found else None
    except Exception:  # noqa: BLE001
        log.exception("reading the run history failed")
        return None
    finally:
        reader.close()


class SolvedOffers:
    """The app's offer state: at most one offer, for the task being shown as held-solved."""

    def __init__(self, app: AltlasApp) -> None:
        self.app = app
        self.offer: Offer | None = None
        self.solved_here: set[str] = set()  # tasks solved in this session
        self._key: tuple[str, int | None] | None = None  # the held solve being offered
        self._declined: set[tuple[str, int | None]] = set()

    def observe(self, snap: Snapshot) -> None:
        """Called with every snapshot a screen shows: start, keep or drop the offer."""
        name = short_name(snap.task_name)
        if snap.solution is not None and name:
            self.solved_here.add(name)
        if not held_solve(snap):
            self._declined.clear()  # "stay" lasts while the hold does; a later hold offers anew
            if self._key is not None:
                self._key = None
                self._set(None)
            return
        key = (name, snap.attempts_to_solve)
        if key == self._key or key in self._declined:
            return
        self._key = key
        self.app.run_worker(
            lambda: self._find(key), thread=True, group="offer", exclusive=True, exit_on_error=False
        )

    def _find(self, key: tuple[str, int | None]) -> None:
        """Worker thread: read the catalogue and the history (file and SQLite reads)."""
        try:
            rows = task_screen.available_tasks(self.app.bridge.task_file)
            solved = {name for name, (_, done) in task_screen.history_best().items() if done}
        except Exception:  # noqa: BLE001 - no catalogue: offer to stay or keep training only
            log.exception("finding the next unsolved task failed")
            rows, solved = [], set()
        nxt = next_unsolved(key[0], rows, solved | self.solved_here)
        attempts, earlier = key[1], False
        if attempts is None:  # resumed already solved: the run that solved it says how fast
            attempts, earlier = solved_in_history(key[0]), True
        engine = self.app.bridge.engine
        steer = not (self.app.attached and getattr(engine, "read_only", False))
        offer = Offer(key[0], attempts, nxt, steer, earlier)
        try:
            self.app.call_from_thread(self._arrived, key, offer)
        except RuntimeError:  # the app closed meanwhile
            pass

    def _arrived(self, key: tuple[str, int | None], offer: Offer) -> None:
        if key == self._key:  # still the held solve it was worked out for
            self._set(offer)

    def _set(self, offer: Offer | None) -> None:
        self.offer = offer
        self.app.refresh_bindings()
        self.app.show_offer()

    def close(self) -> Offer | None:
        """The user chose (start, keep training, stay): hide this offer for good."""
        offer = self.offer
        if self._key is not None:
            self._declined.add(self._key)
        self._set(None)
        return offer
