"""`altlas-tui sweep` as a command: checks, signals, stderr progress, the table or JSON, exit code.

This is presentation (a terminal, signals, exit codes), not learning: it belongs with the CLI in
altlas_tui and is kept in this one module so that moving it there is a single `git mv`.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

from engine.errors import InputError
from engine.sweep.backends import make_backend
from engine.sweep.driver import RunState, Stopper, SweepResult, run_sweep
from engine.sweep.report import format_table
from engine.sweep.spec import build_specs, parse_settings

if TYPE_CHECKING:
    from engine.store import Store

EXIT_INTERRUPTED = 130


def _open_store() -> Store:
    from engine.store import LockHeld, Store

    try:
        return Store(command="sweep")
    except LockHeld as exc:
        raise InputError(
            f"{exc} (another altlas-tui is training here; wait for it or stop it)"
        ) from None


def _install_signals(stopper: Stopper) -> dict[int, Any]:
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        stopper.request()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        previous[sig] = signal.signal(sig, handler)
    return previous


class _Progress:
    """Progress on stderr for a person at a terminal: a live line, and a line per finished run."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, st: RunState, states: list[RunState]) -> None:
        if not self.tty:
            return
        done = sum(1 for s in states if s.state == "done")
        if st.state == "done":
            if st.outcome == "solved" and st.summary:
                what = f"solved at {st.summary.get('attempts_to_solve') or 0:,}"
            else:
                what = {"budget": "not solved", "stopped": "stopped"}.get(st.outcome or "", "")
                what = what or f"failed: {st.error}"
            seconds = (st.summary or {}).get("seconds") or 0.0
            sys.stderr.write(f"\r\x1b[K[{done}/{self.total}] {st.spec.label}: {what} "
                             f"({st.attempts:,} attempts, {seconds:.1f} s)\n")  # fmt: skip
        now = time.monotonic()
        if st.state == "done" or now - self.last >= 0.5:
            self.last = now
            running = [s for s in states if s.state in ("running", "cancelling")]
            live = "  ".join(
                f"#{s.spec.index + 1} {s.spec.task} s{s.spec.seed} {s.attempts:,}"
                for s in running[:4]
            )
            more = f" +{len(running) - 4}" if len(running) > 4 else ""
            sys.stderr.write(f"\r\x1b[K{done}/{self.total} done  {live}{more}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def run_cli(args: Any, config: Any) -> int:
    """`altlas-tui sweep`: check everything, run the sweep, print a table or one JSON array."""
    from engine.tasks import Task, load_task

    names = [n.strip() for n in (args.tasks or "").split(",") if n.strip()]
    if not names:
        raise InputError("expected comma-separated task names", "--tasks")
    tasks: list[Task] = []
    for name in names:
        task = load_task(name)
        if task.name not in {t.name for t in tasks}:
            tasks.append(task)
    if args.workers is not None and args.workers < 1:
        raise InputError("must be at least 1", "--workers")
    if args.address and args.backend != "ray":
        raise InputError("only the ray backend connects to an address", "--address")
    settings = parse_settings(list(getattr(args, "set", None) or []))
    specs = build_specs(config, tasks, args.seeds, settings, args.max_attempts)
    if args.backend == "ray":
        from engine.sweep.ray_backend import require_ray

        require_ray()
    store = _open_store()
    stopper = Stopper()
    previous: dict[int, Any] = {}
    progress = _Progress(len(specs))
    try:
        backend = make_backend(args.backend, args.workers, args.address)
        # after the backend: ray.init() installs handlers of its own
        previous = _install_signals(stopper)
        sweep_id = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
        result = run_sweep(specs, backend, store.runs, stopper=stopper, sweep_id=sweep_id,
                           on_change=progress)  # fmt: skip
    finally:
        progress.close()
        for sig, old in previous.items():
            signal.signal(sig, old)
        store.close()
    return _report(result, args)


def _report(result: SweepResult, args: Any) -> int:
    if args.json:
        print(json.dumps([st.summary for st in result.runs if st.finished]), flush=True)
    else:
        shown = [st for st in result.runs if st.summary is not None]
        print(format_table([st.summary or {} for st in shown], [st.outcome or "" for st in shown],
                           args.max_attempts))  # fmt: skip
    failed = [st for st in result.runs if st.outcome == "error"]
    if result.error is not None:
        kept = sum(1 for st in result.runs if st.finished)
        sys.stderr.write(f"altlas-tui: sweep stopped early: {result.error}; {kept} finished "
                         "run(s) kept (details in the log file)\n")  # fmt: skip
        return 1
    if result.interrupted:
        kept = sum(1 for st in result.runs if st.finished)
        stopped = sum(1 for st in result.runs if st.outcome == "stopped" and st.run_id is not None)
        sys.stderr.write(f"altlas-tui: sweep interrupted: {kept} finished run(s) kept, "
                         f"{stopped} stopped, {sum(st.run_id is None for st in result.runs)} "
                         "not started\n")  # fmt: skip
        return EXIT_INTERRUPTED
    if failed:
        sys.stderr.write(f"altlas-tui: {len(failed)} sweep run(s) failed, first: "
                         f"{failed[0].spec.label}: {failed[0].error} (details in the log file)\n")  # fmt: skip
        return 1
    return 0
