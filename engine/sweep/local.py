"""The default sweep backend: a pool of spawned processes on this machine, one run per process.

Each worker has its own duplex pipe: the driver sends it a spec (or "stop", or None to exit), the
worker sends records back. A worker that dies shows up as EOF on its pipe and its run becomes an
error record; the others carry on. Workers ignore Ctrl+C (the terminal sends it to the whole
process group): cancelling is the driver's decision, by a "stop" message, then a kill.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import time
import typing
from multiprocessing.connection import Connection, wait
from types import FrameType
from typing import Any

from engine.sweep.spec import RunSpec

_STOP = False  # set in a worker by SIGTERM (e.g. the driver died: PR_SET_PDEATHSIG)


def default_workers() -> int:
    """Cores minus one (the driver and the sandboxes need some), at least one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


def _set_parent_death_signal(sig: int) -> None:
    """Linux: get `sig` when the driver dies, so an orphaned worker stops instead of training on."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _worker_main(conn: Connection) -> None:
    """A pool process: run specs from `conn` until told to exit."""
    global _STOP
    import logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def on_term(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        global _STOP
        _STOP = True

    signal.signal(signal.SIGTERM, on_term)
    _set_parent_death_signal(signal.SIGTERM)
    if os.getppid() == 1:  # the driver is already gone
        return
    os.dup2(2, 1)  # stdout belongs to the driver (`sweep --json` prints exactly one document)
    altlas = logging.getLogger("altlas")  # failures travel as error records, not stderr noise
    altlas.addHandler(logging.NullHandler())
    altlas.propagate = False
    import torch

    torch.set_num_threads(1)
    from engine.sweep.worker import run_spec

    stop_message = False

    def stop_requested() -> bool:
        nonlocal stop_message
        while not stop_message and conn.poll():
            if conn.recv() == "stop":
                stop_message = True
        return stop_message or _STOP

    try:
        while not _STOP:
            spec = conn.recv()
            if spec is None:
                return
            if spec == "stop":  # meant for a run that ended meanwhile
                continue
            stop_message = False
            run_spec(spec, conn.send, stop_requested)
    except (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        return


class _Worker:
    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child,), daemon=True,
                                   name="altlas-sweep-worker")  # fmt: skip
        self.process.start()
        child.close()  # only the worker holds its end now, so its death reads as EOF here
        self.run: int | None = None  # the spec index it is running
        self.dead = False


class LocalBackend:
    """Runs specs in up to `workers` spawned processes (torch on one thread each)."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.capacity = workers or default_workers()
        self._ctx = mp.get_context("spawn")
        self._workers: list[_Worker] = []
        self.startup_seconds = 0.0  # nothing to connect to

    # -- the backend interface --------------------------------------------------------------------

    def submit(self, spec: RunSpec) -> int:
        worker = next((w for w in self._workers if w.run is None and not w.dead), None)
        if worker is None:
            if sum(not w.dead for w in self._workers) >= self.capacity:
                raise RuntimeError("local backend: every worker is busy")
            worker = _Worker(self._ctx)
            self._workers.append(worker)
        worker.conn.send(spec.to_dict())
        worker.run = spec.index
        return spec.index

    def records(self, timeout: float) -> list[dict[str, Any]]:
        """Records that arrived within `timeout` seconds (an empty list if none)."""
        live = {w.conn: w for w in self._workers if not w.dead}
        if not live:
            time.sleep(min(timeout, 0.05))
            return []
        out: list[dict[str, Any]] = []
        for ready in wait(list(live), timeout):
            conn = typing.cast(Connection, ready)  # we only wait on our pipes
            worker = live[conn]
            try:
                while conn.poll():
                    rec: dict[str, Any] = conn.recv()
                    out.append(rec)
                    if rec.get("type") in ("summary", "error"):
                        worker.run = None
            except (EOFError, OSError):
                out.extend(self._buried(worker))
        return out

    def cancel(self, handle: int) -> None:
        """Ask the run to stop after its current batch; it then sends a "stopped" summary."""
        for w in self._workers:
            if w.run == handle and not w.dead:
                with contextlib.suppress(OSError):
                    w.conn.send("stop")

    def close(self, kill: bool = False) -> None:
        """Release every worker: idle ones exit, busy ones (or all, with `kill`) are killed."""
        for w in self._workers:
            if w.dead:
                continue
            if w.run is None and not kill:
                with contextlib.suppress(OSError):
                    w.conn.send(None)
        deadline = time.monotonic() + 2.0
        for w in self._workers:
            if w.run is None and not kill and not w.dead:
                w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()  # its sandbox workers follow (they have PR_SET_PDEATHSIG)
            w.process.join(2.0)
            w.conn.close()
            w.dead = True

    # -- helpers ----------------------------------------------------------------------------------

    def _buried(self, worker: _Worker) -> list[dict[str, Any]]:
        worker.dead = True
        worker.process.join(1.0)
        code = worker.process.exitcode
        with contextlib.suppress(OSError):
            worker.conn.close()
        if worker.run is None:
            return []
        run, worker.run = worker.run, None
        return [{"type": "error", "run": run, "summary": None, "traceback": "",
                 "message": f"worker process died (exit code {code})"}]  # fmt: skip

    def pids(self) -> list[int]:
        """Worker process ids (for tests)."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]
