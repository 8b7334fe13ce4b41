"""Scheduling one batch on the fast pool: chunks, hard deadlines, hand-offs, lost workers."""

from __future__ import annotations

import select
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from .batch import HARD_MARGIN, _Batch, _Job
from .procs import SPAWN_TIMEOUT, Worker
from .protocol import MALFORMED, case_results
from .result import ExecResult

if TYPE_CHECKING:
    from .backend import ProcessBackend


class FastRun:
    """Runs the fast-tier part of one batch; `run()` returns what the strict tier must run."""

    def __init__(self, be: ProcessBackend, b: _Batch, todo: list[int]) -> None:

        self.be, self.b = be, b
        self.strict: list[int] = []
        self.hard = b.timeout + HARD_MARGIN
        self.suspect = min(0.005, b.timeout / 2)  # typical programs take ~0.1 ms
        workers = be.cfg.workers
        size = -(-len(todo) // workers) if todo else 1
        self.pending: deque[list[int]] = deque(
            todo[k : k + size] for k in range(0, len(todo), size)
        )
        self.active: dict[Worker, _Job] = {}

    def run(self) -> list[int]:
        be, active = self.be, self.active
        for w in list(be.pool):
            if w.dead and w.info is not None:  # left over from an interrupted batch
                be._retire(w)
        try:
            self._loop()
        except BaseException:
            # SandboxError or KeyboardInterrupt mid-batch: workers still busy with this batch
            # would answer the next one late; kill them now, they are replaced next time.
            for w in active:
                w.kill()
            raise
        return self.strict

    def _loop(self) -> None:

        be, b, pending, active = self.be, self.b, self.pending, self.active
        while pending or active:
            be._poll_ready(block=not active and not any(w.info for w in be.pool))
            for w in list(be.pool):
                if not pending:
                    break
                if w in active or w.dead or w.info is None:
                    continue
                chunk = [i for i in pending.popleft() if not b.done[i]]
                if not chunk:
                    continue
                if not be._send_fast(w, b, chunk):
                    pending.appendleft(chunk)
                    be._retire(w)
                    continue
                active[w] = _Job(be.seq, chunk, time.monotonic())
            if not active:
                continue
            self._wait_and_read()

    def _current(self, w: Worker, job: _Job) -> tuple[int, float, int]:
        """(position in the chunk, case start, case) of the running program, or (-1, 0, 0)."""
        seq, i, t0, j = w.progress()
        if seq == job.seq and 0 <= i < job.limit and not self.b.done[job.chunk[i]]:
            return i, t0, j
        return -1, 0.0, 0

    def _idle(self) -> bool:
        return any(w not in self.active and w.info is not None and not w.dead for w in self.be.pool)

    def _wait_and_read(self) -> None:
        be, active = self.be, self.active
        now = time.monotonic()
        idle = self._idle()
        wait = 0.05
        for w, job in active.items():
            i, t0, _ = self._current(w, job)
            if i >= 0:
                wait = min(wait, t0 + self.hard - now)
                if idle and job.limit > i + 1:
                    wait = min(wait, t0 + self.suspect - now)
            else:
                wait = min(wait, job.sent + SPAWN_TIMEOUT - now)
        fds = [w.res_r for w in active]
        fds += [w.res_r for w in be.pool if w.info is None and not w.dead]
        ready = set(select.select(fds, [], [], max(wait, 0.0005))[0])
        for w in list(active):
            job = active[w]
            if w.res_r in ready:
                msgs = w.read_messages()
                if msgs is None:  # the worker died (or sent garbage)
                    del active[w]
                    self._lost(w, job, w.exit_reason() if not w.buf else MALFORMED)
                    continue
                job.sent = time.monotonic()
                try:
                    finished = self._take(w, job, msgs)
                except (TypeError, ValueError, IndexError, KeyError):
                    finished, w.dead = False, True
                if w.dead and not finished:  # malformed: a worker not to be trusted
                    del active[w]
                    self._lost(w, job, MALFORMED)
                    continue
                if finished:
                    del active[w]
                    rest = [job.chunk[k] for k in range(job.limit) if not self.b.done[job.chunk[k]]]
                    if rest:
                        self.pending.appendleft(rest)
                    if w.dead:
                        be._retire(w)
                    continue
            i, t0, j = self._current(w, job)
            now = time.monotonic()
            if i >= 0:
                if now - t0 > self.hard:
                    del active[w]
                    error = f"TimeoutError: exceeded {self.b.timeout:g}s"
                    self._lost(w, job, error, i, j, now - t0)
                elif now - t0 > self.suspect and job.limit > i + 1 and self._idle():
                    # Hand the rest of the chunk to an idle worker; this one stops at i.
                    rest = [job.chunk[k] for k in range(i + 1, job.limit)]
                    job.limit = i + 1
                    w.set_limit(job.seq, job.limit)
                    self.pending.appendleft(rest)
                    be.stats["handoffs"] += 1
            elif now - job.sent > SPAWN_TIMEOUT:
                del active[w]
                self._lost(w, job, "Killed: worker hung")

    def _take(self, w: Worker, job: _Job, msgs: list[Any]) -> bool:
        """Record the results in `msgs`; True when the worker says it finished the job."""
        b = self.b
        finished = False
        for m in msgs:
            if m[0] != "r" or m[1] != job.seq:
                continue
            for k, raw in m[2]:
                if not (0 <= k < len(job.chunk)) or b.done[job.chunk[k]]:
                    continue
                idx = job.chunk[k]
                if raw == "strict":
                    b.done[idx] = 1
                    self.strict.append(idx)
                    continue
                res = case_results(raw, b.ncases[idx], ExecResult)
                if res is None:
                    b.fail(idx, 0, "killed", MALFORMED, 0.0)
                    w.dead = True
                    continue
                b.finish(idx, res)
                w.count += 1
                self.be.stats["fast"] += 1
            if m[3]:
                finished = True
                if m[3] == 2:  # the worker found itself tampered with, or must start afresh
                    w.dead = True
        return finished

    def _lost(
        self,
        w: Worker,
        job: _Job,
        error: str,
        i: int = -1,
        j: int = 0,
        duration: float = 0.0,
    ) -> None:
        """A worker died or overran: blame the program (and case) in progress, requeue the
        rest, replace the worker. `i` >= 0: the engine killed it for overrunning (timeout)."""
        b = self.b
        status = "timeout" if i >= 0 else "killed"
        if i < 0:
            i, _, j = self._current(w, job)
            if i < 0:
                # No progress record for this chunk: blame its first unfinished program.
                i = next((k for k in range(job.limit) if not b.done[job.chunk[k]]), -1)
                j = 0
        w.kill()
        if i >= 0:
            b.fail(job.chunk[i], j, status, error, duration)
        rest = [job.chunk[k] for k in range(job.limit) if not b.done[job.chunk[k]]]
        if rest:
            self.pending.appendleft(rest)
        self.be._retire(w)
