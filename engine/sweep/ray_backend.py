"""The Ray sweep backend (optional extra): each spec is a Ray task that yields records.

    pip install 'altlas-tui[ray]'
    altlas-tui sweep --backend ray ...                    # a local Ray instance (ray.init())
    altlas-tui sweep --backend ray --address HOST:6379   # an existing cluster

Ray is imported only here and only when this backend is chosen. Every node needs altlas-tui
installed (the task's JSON travels with the spec, so task files need not). The records are the
same as the local backend's; the driver writes them into the run store.
"""

from __future__ import annotations

import importlib.util
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from engine.errors import InputError
from engine.sweep.spec import RunSpec

RAY_MISSING = "the ray backend needs the optional extra: pip install 'altlas-tui[ray]'"
_DONE = object()


def require_ray() -> None:
    """InputError (exit 2) with the install hint when Ray is not importable."""
    if importlib.util.find_spec("ray") is None:
        raise InputError(RAY_MISSING, "--backend")


def run_spec_records(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The Ray task body: run the spec in a thread and yield its records as they come.

    Cancelling the task (ray.cancel) interrupts the generator; the engine is then asked to stop
    and given a few seconds to save nothing and release its sandbox.
    """
    import torch

    from engine.sweep.worker import run_spec

    torch.set_num_threads(1)
    records: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    def body() -> None:
        try:
            run_spec(spec, records.put, stop.is_set)
        finally:
            records.put(_DONE)

    thread = threading.Thread(target=body, name="altlas-sweep-run", daemon=True)
    thread.start()
    try:
        while True:
            rec = records.get()
            if rec is _DONE:
                return
            yield rec
    finally:
        stop.set()
        thread.join(10.0)


class RayBackend:
    """Submits each spec as a streaming Ray task; `capacity` None lets Ray schedule them all."""

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        require_ray()
        import ray

        self._ray = ray
        t0 = time.monotonic()
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "configure_logging": False}  # fmt: skip
        if address:
            kwargs["address"] = address
        elif workers:
            kwargs["num_cpus"] = workers
        self._started_ray = not ray.is_initialized()
        if self._started_ray:
            ray.init(**kwargs)
        self.startup_seconds = time.monotonic() - t0
        self.capacity = workers
        self._task = ray.remote(num_cpus=1, max_retries=0, num_returns="streaming")(
            run_spec_records
        )
        self._gens: dict[int, Any] = {}  # spec index -> ObjectRefGenerator
        self._final: set[int] = set()

    def submit(self, spec: RunSpec) -> int:
        self._gens[spec.index] = self._task.remote(spec.to_dict())
        return spec.index

    def records(self, timeout: float) -> list[dict[str, Any]]:
        ray = self._ray
        if not self._gens:
            time.sleep(min(timeout, 0.05))
            return []
        by_gen = {id(g): run for run, g in self._gens.items()}
        gens = list(self._gens.values())
        ready, _ = ray.wait(gens, num_returns=1, timeout=timeout, fetch_local=True)
        if ready:
            more, _ = ray.wait(gens, num_returns=len(gens), timeout=0, fetch_local=True)
            ready = list({id(g): g for g in [*ready, *more]}.values())
        out: list[dict[str, Any]] = []
        for gen in ready:
            run = by_gen[id(gen)]
            try:
                rec = ray.get(next(gen))
            except StopIteration:
                del self._gens[run]
                if run not in self._final:
                    out.append(_lost(run, "the Ray task ended without a summary"))
                continue
            except Exception as exc:  # the task failed or was cancelled
                del self._gens[run]
                if run not in self._final:
                    out.append(_lost(run, f"Ray task failed: {exc.__class__.__name__}: {exc}"))
                continue
            out.append(rec)
            if rec.get("type") in ("summary", "error"):
                self._final.add(run)
        return out

    def cancel(self, handle: int) -> None:
        gen = self._gens.get(handle)
        if gen is not None:
            try:
                self._ray.cancel(gen)
            except Exception:
                pass

    def close(self, kill: bool = False) -> None:
        for run in list(self._gens):
            if run not in self._final:
                self.cancel(run)
        self._gens.clear()
        if self._started_ray:
            self._ray.shutdown()


def _lost(run: int, message: str) -> dict[str, Any]:
    return {"type": "error", "run": run, "message": message, "traceback": "", "summary": None}
