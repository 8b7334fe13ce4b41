"""The sweep driver: feeds specs to a backend, writes every record into the run store, cancels.

The driver is the only writer of the run store, so runs from the local pool and from a Ray
cluster look the same downstream: kind "sweep", the run's full config plus a "sweep" entry
(`{"id", "settings", "max_attempts", "backend", "index", "total"}`), metrics as logged by the
engine (every batch), and the train summary plus "settings" when it ends.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.store.protocols import RunHistory
from engine.sweep.spec import RunSpec

log = logging.getLogger("altlas.sweep")

GRACE_SECONDS = 5.0  # how long cancelled runs get to stop by themselves before they are killed
POLL_SECONDS = 0.2


class Backend(Protocol):
    """Where runs execute. Records are plain dicts (see engine/sweep/worker.py)."""

    name: str
    startup_seconds: float

    @property
    def capacity(self) -> int | None:
        """Runs at a time (None: the backend schedules everything it gets)."""
        ...

    def submit(self, spec: RunSpec) -> int: ...
    def records(self, timeout: float) -> list[dict[str, Any]]: ...
    def cancel(self, handle: int) -> None: ...
    def close(self, kill: bool = False) -> None: ...


class Stopper:
    """Set from a signal handler: once = cancel cleanly, twice = kill now."""

    def __init__(self) -> None:
        self.requests = 0

    def request(self) -> None:
        self.requests += 1

    @property
    def requested(self) -> bool:
        return self.requests > 0


@dataclass
class RunState:
    """What the driver knows about one spec."""

    spec: RunSpec
    run_id: int | None = None
    state: str = "pending"  # pending | running | cancelling | done
    attempts: int = 0
    best_score: float = 0.0
    started: float | None = None
    outcome: str | None = None  # solved | budget | stopped | error
    summary: dict[str, Any] | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        """Ran to its end (solved or out of budget): a result worth keeping."""
        return self.outcome in ("solved", "budget")


@dataclass
class SweepResult:
    """Every run's state when the sweep ended; `error` says why the sweep itself stopped early."""

    runs: list[RunState]
    interrupted: bool = False
    wall_seconds: float = 0.0
    startup_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # the backend failed: finished runs are kept, the rest stopped


def run_sweep(
    specs: list[RunSpec],
    backend: Backend,
    runs_db: RunHistory,
    *,
    stopper: Stopper | None = None,
    sweep_id: str = "",
    on_change: Callable[[RunState, list[RunState]], None] | None = None,
    grace: float = GRACE_SECONDS,
) -> SweepResult:
    """Run every spec on `backend`, recording into `runs_db` (a writable run history).

    Never loses a finished run: a run whose records cannot be applied becomes an "error" run and
    the others go on; if the backend itself fails, the sweep stops, the runs still going are
    recorded as "stopped", and the result (with `error` set) holds every finished run.
    """
    stopper = stopper or Stopper()
    t0 = time.monotonic()
    states = [RunState(s) for s in specs]
    pending = deque(states)
    active: dict[int, RunState] = {}
    cancel_deadline: float | None = None
    interrupted = False
    error: str | None = None
    try:
        while pending or active:
            if stopper.requested and not interrupted:
                interrupted = True
                pending.clear()
                for st in active.values():
                    st.state = "cancelling"
                    backend.cancel(st.spec.index)
                cancel_deadline = time.monotonic() + grace
            if interrupted and (stopper.requests > 1 or time.monotonic() >= (cancel_deadline or 0)):
                break
            while pending and (backend.capacity is None or len(active) < backend.capacity):
                st = pending.popleft()
                backend.submit(st.spec)
                st.state = "running"
                active[st.spec.index] = st
            for rec in backend.records(POLL_SECONDS):
                found = active.get(rec.get("run", -1))
                if found is None:
                    continue
                st = found
                try:
                    _apply(rec, st, runs_db, sweep_id, backend.name, len(specs))
                except Exception as exc:  # one bad record costs its run, not the sweep
                    log.exception("sweep run %s (%s): record %r failed", st.run_id,
                                  st.spec.label, rec.get("type"))  # fmt: skip
                    st.error = f"recording failed: {type(exc).__name__}: {exc}"
                    backend.cancel(st.spec.index)
                    _finish(st, runs_db, "error", None, sweep_id, backend.name, len(specs))
                if st.state == "done":
                    del active[st.spec.index]
                if on_change is not None:
                    on_change(st, states)
    except Exception as exc:  # the backend (or the run store) failed: keep what finished
        log.exception("sweep stopped: %s", exc)
        error = f"{type(exc).__name__}: {exc}"
    finally:
        try:
            backend.close(kill=bool(active))
        except Exception:
            log.exception("could not close the %s backend", backend.name)
        for st in active.values():  # killed, or the driver itself failed: keep what is known
            if st.run_id is None:  # never started: nothing to record
                st.outcome, st.state = "stopped", "done"
            else:
                _finish(st, runs_db, "stopped", None, sweep_id, backend.name, len(specs))
            if on_change is not None:
                on_change(st, states)
        for st in pending:  # the backend failed before these were submitted
            st.outcome, st.state = "stopped", "done"
        runs_db.flush()
    return SweepResult(states, interrupted, time.monotonic() - t0, backend.startup_seconds,
                       error=error)  # fmt: skip


def _store_config(st: RunState, sweep_id: str, backend: str, total: int) -> dict[str, Any]:
    conf = dict(st.spec.config)
    conf["sweep"] = {"id": sweep_id, "settings": dict(st.spec.settings), "backend": backend,
                     "max_attempts": st.spec.max_attempts, "index": st.spec.index,
                     "total": total}  # fmt: skip
    return conf


def _ensure_run(st: RunState, runs_db: RunHistory, sweep_id: str, backend: str, total: int) -> None:
    if st.run_id is None:
        algo = st.spec.config.get("train", {}).get("algo", "default")
        st.run_id = runs_db.start_run(st.spec.task, st.spec.seed, algo,
                                      _store_config(st, sweep_id, backend, total), kind="sweep")  # fmt: skip
        st.started = time.time()


def _apply(
    rec: dict[str, Any],
    st: RunState,
    runs_db: RunHistory,
    sweep_id: str,
    backend: str,
    total: int,
) -> None:
    kind = rec.get("type")
    _ensure_run(st, runs_db, sweep_id, backend, total)
    assert st.run_id is not None
    if kind == "progress":
        st.attempts = int(rec.get("attempts", st.attempts))
        st.best_score = float(rec.get("best_score", st.best_score))
        for step, metrics in rec.get("metrics", ()):
            runs_db.log_metrics(st.run_id, step, metrics)
        for step, score, code in rec.get("best", ()):
            runs_db.log_best(st.run_id, step, score, code)
        for step, ev_kind, message in rec.get("events", ()):
            runs_db.log_event(st.run_id, step, ev_kind, message)
    elif kind == "summary":
        _finish(st, runs_db, rec.get("outcome", "budget"), rec.get("summary"), sweep_id, backend,
                total)  # fmt: skip
    elif kind == "error":
        # a cancelled Ray task reports its cancellation as a failure: that is a stop
        outcome = "stopped" if st.state == "cancelling" else "error"
        if outcome == "error":
            st.error = rec.get("message", "unknown error")
            log.error("sweep run %s (%s) failed: %s\n%s", st.run_id, st.spec.label, st.error,
                      rec.get("traceback", ""))  # fmt: skip
        _finish(st, runs_db, outcome, rec.get("summary"), sweep_id, backend, total)


def _finish(
    st: RunState,
    runs_db: RunHistory,
    outcome: str,
    summary: dict[str, Any] | None,
    sweep_id: str,
    backend: str,
    total: int,
) -> None:
    _ensure_run(st, runs_db, sweep_id, backend, total)
    if summary is None:  # the run never reported one: build it from its last progress
        seconds = time.time() - st.started if st.started else 0.0
        summary = {"event": "summary", "task": st.spec.task, "seed": st.spec.seed,
                   "algo": st.spec.config.get("train", {}).get("algo", "default"),
                   "solved": False, "attempts_to_solve": None, "attempts": st.attempts,
                   "unique_programs": 0, "seconds": round(seconds, 3),
                   "attempts_per_second": round(st.attempts / seconds, 1) if seconds else 0.0,
                   "best_score": round(st.best_score, 4), "best_code": "", "solution": None, "solution_raw": None,
                   "hints_provided": 0, "total_attempts": st.attempts}  # fmt: skip
    summary = {**summary, "settings": dict(st.spec.settings)}
    st.summary, st.outcome, st.state = summary, outcome, "done"
    st.attempts = int(summary.get("attempts") or st.attempts)
    assert st.run_id is not None  # _ensure_run above
    try:
        runs_db.end_run(st.run_id, outcome, summary)
    except Exception:
        log.exception("could not close sweep run %s", st.run_id)
