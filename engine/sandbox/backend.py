"""The process backend: a pool of fast workers, a strict-tier zygote, and their supervision.

A batch is `programs x cases`. Programs are split into chunks, one per fast worker; each worker
compiles a program once and runs it on every case. The engine enforces the hard deadline (SIGKILL
at the case's start + timeout + HARD_MARGIN, read from the worker's progress page), hands the rest
of a chunk stuck behind a slow program to an idle helper, requeues what a dead worker left, and
replaces workers. Programs the fast tier refuses go to the strict tier afterwards.

Failures of the machinery never end a run by themselves: a worker that cannot start is retried
on a fresh uid with exponential backoff; only MAX_START_FAILURES failures in a row (about 5 s of
trying) raise SandboxError, with a one-line reason.
"""

from __future__ import annotations

import os
import select
import shutil
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from engine.config import SandboxConfig

from . import layers
from .batch import STRICT_SLACK, _Batch
from .procs import SPAWN_TIMEOUT, UidPool, Worker, kill_all
from .protocol import MALFORMED, case_results
from .result import ExecResult, SandboxError

HELPERS = 2  # fast workers beyond `workers`: take over stuck chunks, stand in for killed ones
MAX_START_FAILURES = 8  # in a row, with backoff 0.05 s doubling to 2 s: then SandboxError


class ProcessBackend:
    """Fast pool + strict zygote (see module docstring)."""

    def __init__(self, cfg: SandboxConfig) -> None:
        self.cfg = cfg
        self.root_dir = layers.make_root()
        self.is_root = os.geteuid() == 0
        self.uids = UidPool(*layers.uid_range()) if self.is_root else None
        self.seq = 0
        self.lock = threading.Lock()
        self.fast_prefix, self.zygote_prefix = layers.prefixes(self.is_root)
        self.fast_bpf = layers.fast_filter()
        self.strict_bpf = layers.strict_filter()
        self.keyctl_nr = layers.syscall_nr("keyctl")
        self.pool: list[Worker] = []
        self.pool_size = cfg.workers + HELPERS
        self.zygote: Worker | None = None
        self.start_failures = 0
        self.stats = {"fast": 0, "strict": 0, "replaced": 0, "recycled": 0, "handoffs": 0}
        self.stats["start_failures"] = 0
        self._finalizer = weakref.finalize(self, kill_all, [], None)
        # Workers are started from one long-lived thread: PR_SET_PDEATHSIG fires when the thread
        # that forked a worker ends, and run_cases may be called from short-lived threads.
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="altlas-sandbox-spawn")
        try:
            for _ in range(self.pool_size):
                self.pool.append(self._spawn_fast())
            self._track()
            self.zygote = self._start_zygote()
            self._track()
            while not all(w.info is not None for w in self.pool):
                self._poll_ready(block=True)
        except BaseException:
            self.close()
            raise
        self.fast_info = self.pool[0].info or {}
        self.strict_info = self.zygote.info or {}

    # -- spawning ---------------------------------------------------------------------------

    def uid_block(self) -> tuple[int, int] | None:
        return (self.uids.lo, self.uids.hi) if self.uids is not None else None

    def _track(self) -> None:
        self._finalizer.detach()
        live = [x for x in [*self.pool, self.zygote] if x is not None]
        self._finalizer = weakref.finalize(self, kill_all, live, self.uid_block())

    def _settings(self, uid: int | None, bpf: bytes | None) -> dict[str, Any]:
        return {
            "memory_mb": self.cfg.memory_mb,
            "uid": uid,
            "gid": uid,
            "chroot": self.root_dir if self.is_root else None,
            "cwd": self.root_dir,
            "engine_pid": os.getpid(),
            "recursion_limit": 1000,
            "seccomp": bpf,
            "keyctl_nr": self.keyctl_nr,
        }

    def _failed(self, what: str, reason: str) -> None:
        """Count a start-up failure; back off; give up (SandboxError) after too many in a row."""
        self.start_failures += 1
        self.stats["start_failures"] += 1
        if self.start_failures >= MAX_START_FAILURES:
            raise SandboxError(
                f"sandbox unusable: {what} failed to start {self.start_failures} times in a row"
                f" (last: {reason})"
            )
        time.sleep(min(2.0, 0.05 * 2 ** (self.start_failures - 1)))

    def _spawn_fast(self) -> Worker:
        while True:
            uid = self.uids.take() if self.uids is not None else None
            try:
                return self._spawner.submit(
                    Worker, "fast", self.fast_prefix, self._settings(uid, self.fast_bpf)
                ).result()
            except OSError as e:  # fork failed (EAGAIN, ENOMEM): retry on a fresh uid
                self._failed("fast worker", f"{type(e).__name__}: {e}")

    def _start_zygote(self) -> Worker:
        while True:
            uid = self.uids.take() if self.uids is not None else None
            try:
                z = self._spawner.submit(
                    Worker, "zygote", self.zygote_prefix, self._settings(uid, self.strict_bpf)
                ).result()
            except OSError as e:
                self._failed("strict-tier zygote", f"{type(e).__name__}: {e}")
                continue
            if z.wait_ready():
                self.start_failures = 0
                return z
            reason = z.exit_reason() if z.dead else "no ready message within 10 s"
            z.kill()  # its uid is not reused: its children die with its pid namespace
            self._failed("strict-tier zygote", reason)

    def _retire(self, w: Worker, recycled: bool = False) -> None:
        """Kill a fast worker and start its successor (which becomes usable once ready)."""
        if w.kill() and self.uids is not None and w.uid is not None:
            self.uids.give(w.uid)  # reaped: no process of this uid is left
        self.stats["recycled" if recycled else "replaced"] += 1
        self.pool[self.pool.index(w)] = self._spawn_fast()
        self._track()

    def _poll_ready(self, block: bool) -> None:
        """Read the start-up message of pool members still starting (wait for one if `block`);
        retry those that died or hung during start-up."""
        starting = [w for w in self.pool if w.info is None]
        if not starting:
            return
        now = time.monotonic()
        wait = max(0.0, min(w.started + SPAWN_TIMEOUT - now for w in starting)) if block else 0
        fds = [w.res_r for w in starting if not w.dead]
        ready = set(select.select(fds, [], [], wait)[0]) if fds else set()
        now = time.monotonic()
        for w in starting:
            if not w.dead and w.res_r in ready:
                w.wait_ready(0.0)
            if w.info is not None:
                self.start_failures = 0
            elif w.dead or now - w.started > SPAWN_TIMEOUT:
                reason = w.exit_reason() if w.dead else "no ready message within 10 s"
                w.kill()
                self._failed("fast worker", reason)
                self._retire(w)

    # -- running ----------------------------------------------------------------------------

    def run_cases(
        self, codes: list[Any], cases: list[bytes], timeout: float
    ) -> list[list[ExecResult]]:
        with self.lock:
            b = _Batch(codes, cases, timeout, self.cfg.max_output)
            max_source = self.cfg.max_source
            todo = []
            for i, code in enumerate(codes):
                if not isinstance(code, str):
                    r = ExecResult("rejected", "", "TypeError: program must be str", 0.0)
                    b.finish(i, [r] * len(cases))
                elif len(code) > max_source:
                    err = f"SourceTooLarge: {len(code)} > {max_source} chars"
                    b.finish(i, [ExecResult("rejected", "", err, 0.0)] * len(cases))
                else:
                    todo.append(i)
            strict = self._run_fast(b, todo)
            if strict:
                self._run_strict(b, strict)
            for w in list(self.pool):
                if w.count >= self.cfg.recycle_every:
                    self._retire(w, recycled=True)
            assert all(r is not None for r in b.results)
            return b.results  # type: ignore[return-value]

    def _send_fast(self, w: Worker, b: _Batch, chunk: list[int]) -> bool:
        self.seq += 1
        msg = (
            self.seq, b.timeout, b.cap, [b.codes[i] for i in chunk], b.cases,
            [b.ncases[i] for i in chunk],
        )  # fmt: skip
        return w.send(msg)

    def _run_fast(self, b: _Batch, todo: list[int]) -> list[int]:
        """Run `todo` on the fast pool; return the indices the strict tier must run."""
        from .fastpool import FastRun

        return FastRun(self, b, todo).run()

    def _run_strict(self, b: _Batch, todo: list[int]) -> None:
        deadline = b.timeout + STRICT_SLACK
        queue = list(todo)
        while queue:
            z = self.zygote
            if z is None or z.dead:
                self._replace_zygote()
                continue
            nc = [b.ncases[i] for i in queue]
            msg = (
                self.seq + 1,
                b.timeout,
                deadline,
                b.cap,
                [b.codes[i] for i in queue],
                b.cases,
                nc,
            )
            if not z.send(msg):
                self._replace_zygote()
                continue
            self.seq += 1
            seq = self.seq
            got = [False] * len(queue)
            n_got = 0
            last = time.monotonic()
            patience = max(nc, default=1) * deadline + 2.0
            lost = False
            while n_got < len(queue):
                left = last + patience - time.monotonic()
                if left <= 0 or not select.select([z.res_r], [], [], left)[0]:
                    lost = True
                    break
                msgs = z.read_messages()
                if msgs is None:
                    lost = True
                    break
                last = time.monotonic()
                try:
                    for m in msgs:
                        if m[0] != "r" or m[1] != seq:
                            continue
                        for k, raw in m[2]:
                            if not (0 <= k < len(queue)) or got[k]:
                                continue
                            got[k] = True
                            n_got += 1
                            i = queue[k]
                            res = case_results(raw, b.ncases[i], ExecResult)
                            if res is None:
                                b.fail(i, 0, "killed", MALFORMED, 0.0)
                            else:
                                b.finish(i, res)
                            self.stats["strict"] += 1
                except (TypeError, ValueError, IndexError, KeyError):
                    lost = True
                    break
            if lost:
                # The zygote died or hung: blame the program in progress, restart, go on.
                k = next(k for k in range(len(queue)) if not got[k])
                b.fail(queue[k], 0, "killed", "Killed: strict tier failed", 0.0)
                got[k] = True
                self._replace_zygote()
            queue = [queue[k] for k in range(len(queue)) if not got[k]]

    def _replace_zygote(self) -> None:
        if self.zygote is not None:
            self.zygote.kill()
        self.stats["replaced"] += 1
        self.zygote = None
        self.zygote = self._start_zygote()
        self._track()

    # -- reporting and shutdown -------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        from .describe import describe

        return describe(self)

    def processes(self) -> dict[str, Any]:
        fast = [w.pid for w in self.pool if not w.dead]
        ready = [w.pid for w in self.pool if not w.dead and w.info is not None]
        zyg = self.zygote.pid if self.zygote is not None and not self.zygote.dead else None
        return {
            "fast": fast,
            "fast_ready": ready,
            "zygote": zyg,
            "uids": self.uid_block(),
            "root_dir": self.root_dir,
        }

    def close(self) -> None:
        live = [x for x in [*self.pool, self.zygote] if x is not None]
        self.pool, self.zygote = [], None
        kill_all(live, self.uid_block())
        self._spawner.shutdown(wait=False)
        self._finalizer.detach()
        shutil.rmtree(self.root_dir, ignore_errors=True)
