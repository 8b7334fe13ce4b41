"""Run untrusted generated programs: fast tier for plain programs, strict tier for the rest.

    with Sandbox(config.sandbox) as sb:
        results = sb.run_many(codes)          # list[ExecResult], same order as codes
        sb.describe()                         # isolation layers actually in force

Every program is compiled inside a sandbox process, never here. A fast-tier worker compiles it
and inspects the code object's names; programs that use only the plain language run right there
(fresh globals, small builtins dict, soft timer, integrity check after each program), everything
else is sent back and run by the strict tier (one fork per program from a zygote, with rlimits,
an empty chroot, an unprivileged uid, no further processes, an empty network namespace).

The engine enforces the hard deadlines: a fast worker that overruns is killed with SIGKILL and
replaced by a spare; the zygote kills its children itself and is killed by the engine if it
stops answering. See docs/sandbox.md.
"""

from __future__ import annotations

import json
import marshal
import mmap
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import SandboxConfig
from engine.errors import InputError

__all__ = ["ExecResult", "Sandbox", "STATUSES"]

STATUSES = ("ok", "error", "timeout", "killed", "rejected")
WORKER_SCRIPT = str(Path(__file__).with_name("_sandbox_worker.py"))
_HDR = 4
_MAX_MESSAGE = 256 * 1024 * 1024
_STRICT_SLACK = 0.05  # fork and lock-down time allowed on top of a strict program's timeout
_SPAWN_TIMEOUT = 10.0
_HELPERS = 2  # fast workers beyond `workers`: take over stuck chunks, stand in for killed ones
_CLEAN_ENV = {"LC_ALL": "C.UTF-8"}


@dataclass(frozen=True)
class ExecResult:
    """Outcome of one program."""

    status: str  # "ok" | "error" | "timeout" | "killed" | "rejected"
    stdout: str
    error: str  # "" or short "TypeName: message"
    duration: float  # seconds


class SandboxError(RuntimeError):
    """The sandbox machinery itself failed (a worker could not start)."""


def _check_config(cfg: SandboxConfig) -> None:
    where = "sandbox config"
    if cfg.backend not in ("process", "inprocess"):
        raise InputError("expected process or inprocess", where, "sandbox.backend")
    if cfg.workers < 1 or cfg.workers > 64:
        raise InputError("expected 1..64", where, "sandbox.workers")
    if not cfg.timeout > 0:
        raise InputError("must be positive", where, "sandbox.timeout")
    if cfg.max_output < 1:
        raise InputError("must be positive", where, "sandbox.max_output")
    if cfg.memory_mb < 64:
        raise InputError("expected at least 64", where, "sandbox.memory_mb")
    if cfg.recycle_every < 1:
        raise InputError("must be positive", where, "sandbox.recycle_every")
    if cfg.max_source < 1:
        raise InputError("must be positive", where, "sandbox.max_source")


# ---------------------------------------------------------------------------------------------
# Platform probing
# ---------------------------------------------------------------------------------------------

_probe_cache: dict[tuple[str, ...], bool] = {}


def _unshare_ok(args: tuple[str, ...]) -> bool:
    """Whether `unshare ARGS true` works here (cached per process)."""
    if args not in _probe_cache:
        exe = shutil.which("unshare")
        ok = False
        if exe:
            try:
                ok = (
                    subprocess.run(
                        [exe, *args, "true"],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        timeout=5,
                        env=_CLEAN_ENV,
                    ).returncode
                    == 0
                )
            except (OSError, subprocess.SubprocessError):
                ok = False
        _probe_cache[args] = ok
    return _probe_cache[args]


def _seccomp_available() -> bool:
    import importlib.util

    return any(importlib.util.find_spec(m) is not None for m in ("pyseccomp", "seccomp"))


def _uid_range() -> tuple[int, int]:
    """A block of uids owned by no account, for this Sandbox's workers."""
    try:
        with open("/proc/self/uid_map") as f:
            first = f.read().split()
        inside, count = int(first[0]), int(first[2])
    except (OSError, ValueError, IndexError):
        inside, count = 0, 65536
    lo, hi = 200_000, 2_000_000_000
    if inside > lo or inside + count < hi:
        # A narrow user namespace: fall back to the top of the mapped range.
        top = inside + count - 2
        return top - 64, top
    used = {p.pw_uid for p in _passwd()}
    while True:
        base = lo + int.from_bytes(os.urandom(4), "little") % (hi - lo)
        base -= base % 64
        if not any(base <= u < base + 64 for u in used):
            return base, base + 64


def _passwd() -> list[Any]:
    try:
        import pwd

        return pwd.getpwall()
    except (ImportError, OSError):
        return []


_ROOT_PREFIX = "altlas_sandbox_root_"


def _remove_stale_roots() -> None:
    """Remove the empty chroot directories of engines that died without closing their Sandbox."""
    tmp = Path(tempfile.gettempdir())
    for d in tmp.glob(f"{_ROOT_PREFIX}*_*"):
        pid = d.name[len(_ROOT_PREFIX) :].split("_", 1)[0]
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        try:
            d.rmdir()  # only ever empty: nothing can write into it
        except OSError:
            pass


def _kill_uid(uid: int) -> int:
    """SIGKILL every process whose real uid is `uid` (engine side, as root). Returns the count."""
    n = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"Uid:"):
                        if int(line.split()[1]) == uid:
                            os.kill(int(entry.name), signal.SIGKILL)
                            n += 1
                        break
        except (OSError, ValueError):
            continue
    return n


# ---------------------------------------------------------------------------------------------
# Worker processes (engine side)
# ---------------------------------------------------------------------------------------------


_WORKER_STATUSES = frozenset(("ok", "error", "timeout", "killed", "strict"))
_MALFORMED = "SandboxViolation: malformed result from a worker"


def _valid(status: Any, out: Any, err: Any, dur: Any) -> bool:
    """A result as a sandbox process sent it: only trusted once its types are checked."""
    return (
        status in _WORKER_STATUSES
        and type(out) is str
        and type(err) is str
        and type(dur) in (float, int)
    )


def _pack(obj: Any) -> bytes:
    data = marshal.dumps(obj)
    return len(data).to_bytes(_HDR, "little") + data


class _Worker:
    """One sandbox process (fast worker or zygote) and its pipes."""

    def __init__(self, kind: str, prefix: list[str], settings: dict[str, Any]) -> None:
        self.kind = kind
        self.info: dict[str, Any] | None = None
        self.buf = bytearray()
        self.count = 0
        self.dead = False
        self.killed = False
        self.uid: int | None = None
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        fds = [cmd_r, res_w]
        self.mm: mmap.mmap | None = None
        prog_fd = -1
        if kind == "fast":
            prog_fd = os.memfd_create("altlas_progress")
            os.ftruncate(prog_fd, 64)
            self.mm = mmap.mmap(prog_fd, 64)
            fds.append(prog_fd)
        argv = [*prefix, sys.executable, "-I", "-S", "-B", WORKER_SCRIPT, kind, *map(str, fds)]
        try:
            self.proc = subprocess.Popen(
                argv,
                pass_fds=fds,
                env=_CLEAN_ENV,
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            for fd in fds:
                os.close(fd)
        self.pid = self.proc.pid
        os.set_blocking(self.cmd_w, False)  # a worker that stops reading cannot block the engine
        self.send(settings)

    def send(self, obj: Any, timeout: float = _SPAWN_TIMEOUT) -> bool:
        """Write one message; False if the process is gone or stopped reading."""
        data = memoryview(_pack(obj))
        end = time.monotonic() + timeout
        try:
            while data:
                try:
                    n = os.write(self.cmd_w, data)
                except BlockingIOError:
                    left = end - time.monotonic()
                    if left <= 0 or not select.select([], [self.cmd_w], [], left)[1]:
                        self.dead = True
                        return False
                    continue
                data = data[n:]
        except OSError:
            self.dead = True
            return False
        return True

    def read_messages(self) -> list[Any] | None:
        """Read what is available; None on EOF (the process is gone)."""
        try:
            chunk = os.read(self.res_r, 1 << 20)
        except BlockingIOError:
            chunk = b"?"
        except OSError:
            chunk = b""
        if not chunk:
            self.dead = True
            return None
        if chunk != b"?":
            self.buf += chunk
        msgs = []
        buf = self.buf
        pos = 0
        while len(buf) - pos >= _HDR:
            n = int.from_bytes(buf[pos : pos + _HDR], "little")
            if n > _MAX_MESSAGE:
                self.dead = True
                return None
            if len(buf) - pos - _HDR < n:
                break
            try:
                msgs.append(json.loads(bytes(buf[pos + _HDR : pos + _HDR + n])))
            except (ValueError, RecursionError):  # only a subverted worker sends such bytes
                self.dead = True
                return None
            pos += _HDR + n
        if pos:
            del buf[:pos]
        return msgs

    def wait_ready(self, timeout: float = _SPAWN_TIMEOUT) -> bool:
        end = time.monotonic() + timeout
        while self.info is None and not self.dead:
            left = max(0.0, end - time.monotonic())
            if not select.select([self.res_r], [], [], left)[0]:
                return False
            msgs = self.read_messages()
            if msgs is None:
                return False
            for m in msgs:
                if isinstance(m, list) and len(m) == 2 and m[0] == "ready":
                    if isinstance(m[1], dict):
                        self.info = m[1]
        return self.info is not None

    def set_limit(self, seq: int, limit: int) -> None:
        """Tell the worker to stop before program `limit` of message `seq`."""
        if self.mm is not None:
            struct.pack_into("<qq", self.mm, 24, seq, limit)

    def progress(self) -> tuple[int, int, float]:
        assert self.mm is not None
        a = struct.unpack_from("<qqd", self.mm, 0)
        b = struct.unpack_from("<qqd", self.mm, 0)
        return b if a == b else (-1, -1, 0.0)

    def exit_reason(self) -> str:
        try:
            rc = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "Killed: worker stopped answering"
        if rc < 0:
            try:
                return f"Killed: signal {signal.Signals(-rc).name}"
            except ValueError:
                return f"Killed: signal {-rc}"
        return f"Killed: worker exited with code {rc}"

    def kill(self) -> None:
        self.dead = True
        if self.killed:
            return
        self.killed = True
        for fn in (os.killpg, os.kill):
            try:
                fn(self.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self.cmd_w, self.res_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.cmd_w = self.res_r = -1
        if self.mm is not None:
            self.mm.close()
            self.mm = None


def _kill_all(workers: list[_Worker], uids: list[int]) -> None:
    for w in workers:
        w.kill()
    if os.geteuid() == 0:
        for uid in uids:
            _kill_uid(uid)


# ---------------------------------------------------------------------------------------------
# The process backend
# ---------------------------------------------------------------------------------------------


class _Job:
    """A chunk of a batch sent to one fast worker."""

    __slots__ = ("seq", "chunk", "limit", "sent")

    def __init__(self, seq: int, chunk: list[int], sent: float) -> None:
        self.seq = seq
        self.chunk = chunk  # global indices, in the order sent
        self.limit = len(chunk)  # programs from here on were handed to another worker
        self.sent = sent  # last time this job was sent or heard from


class _ProcessBackend:
    def __init__(self, cfg: SandboxConfig) -> None:
        self.cfg = cfg
        _remove_stale_roots()
        self.root_dir = tempfile.mkdtemp(prefix=f"{_ROOT_PREFIX}{os.getpid()}_")
        os.chmod(self.root_dir, 0o711)
        self.is_root = os.geteuid() == 0
        self.uid_base = _uid_range()[0] if self.is_root else None
        self.seq = 0
        self.lock = threading.Lock()
        unshare = shutil.which("unshare")
        if self.is_root and unshare and _unshare_ok(("--net",)):
            self.fast_prefix = [unshare, "--net"]
        else:
            self.fast_prefix = []
        zyg = ("--net", "--pid", "--fork", "--kill-child")
        if not self.is_root:
            zyg = ("--user", "--map-root-user", *zyg)
        self.zygote_prefix = [unshare, *zyg] if unshare and _unshare_ok(zyg) else []
        # Fast pool: `workers` processes take a batch's chunks; the helpers take over the rest
        # of a chunk whose worker is stuck in a long program, and stand in for killed workers.
        self.pool: list[_Worker] = []
        self.pool_size = cfg.workers + _HELPERS
        self.zygote: _Worker | None = None
        self.next_fast_uid = 0
        self.start_failures = 0
        self.stats = {"fast": 0, "strict": 0, "replaced": 0, "recycled": 0, "handoffs": 0}
        self._finalizer = weakref.finalize(self, _kill_all, [], [])
        # Workers are started from one long-lived thread: PR_SET_PDEATHSIG fires when the thread
        # that forked a worker ends, and run_many may be called from short-lived threads.
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="altlas-sandbox-spawn")
        try:
            for _ in range(self.pool_size):
                self.pool.append(self._spawn_fast())
            self.zygote = self._spawn_zygote()
            self._track()
            for w in [*self.pool, self.zygote]:
                if not w.wait_ready():
                    raise SandboxError(f"sandbox {w.kind} worker did not start")
        except BaseException:
            self.close()
            raise
        self.seccomp_available = _seccomp_available()  # cached: describe() runs every snapshot
        self.fast_info = self.pool[0].info or {}
        self.strict_info = self.zygote.info or {}

    # -- spawning ---------------------------------------------------------------------------

    def _uids(self) -> list[int]:
        if self.uid_base is None:
            return []
        return list(range(self.uid_base, self.uid_base + 64))

    def _track(self) -> None:
        self._finalizer.detach()
        live = [x for x in [*self.pool, self.zygote] if x is not None]
        self._finalizer = weakref.finalize(self, _kill_all, live, self._uids())

    def _settings(self, uid: int | None) -> dict[str, Any]:
        return {
            "memory_mb": self.cfg.memory_mb,
            "uid": uid,
            "gid": uid,
            "chroot": self.root_dir if self.is_root else None,
            "cwd": self.root_dir,
            "engine_pid": os.getpid(),
            "recursion_limit": 1000,
        }

    def _spawn_fast(self) -> _Worker:
        uid = None
        if self.uid_base is not None:
            # Each fast worker has its own uid (the strict tier has uid_base), so RLIMIT_NPROC=1
            # and kill(-1) stay within one process.
            uid = self.uid_base + 1 + self.next_fast_uid % 63
            self.next_fast_uid += 1
        w = self._spawner.submit(_Worker, "fast", self.fast_prefix, self._settings(uid)).result()
        w.uid = uid
        return w

    def _spawn_zygote(self) -> _Worker:
        uid = self.uid_base if self.uid_base is not None else None
        return self._spawner.submit(
            _Worker, "zygote", self.zygote_prefix, self._settings(uid)
        ).result()

    def _retire(self, w: _Worker, recycled: bool = False) -> None:
        """Kill a fast worker and start its successor (which becomes usable once ready)."""
        w.kill()
        if self.uid_base is not None and w.uid is not None:
            _kill_uid(w.uid)
        self.stats["recycled" if recycled else "replaced"] += 1
        self.pool[self.pool.index(w)] = self._spawn_fast()
        self._track()

    def _poll_ready(self, block: bool) -> None:
        """Read the start-up message of pool members still starting (wait for one if `block`)."""
        starting = [w for w in self.pool if w.info is None and not w.dead]
        if not starting:
            return
        ready = select.select([w.res_r for w in starting], [], [], _SPAWN_TIMEOUT if block else 0)
        for w in starting:
            if w.res_r in ready[0]:
                w.wait_ready(0.0)
                if w.info is not None:
                    self.start_failures = 0
                elif w.dead:
                    self.start_failures += 1
                    if self.start_failures > 10:
                        raise SandboxError("sandbox fast workers keep dying during start-up")
                    self._retire(w)
        if block and not any(w.info is not None for w in self.pool):
            raise SandboxError("sandbox fast worker did not start")

    # -- running ----------------------------------------------------------------------------

    def run_many(self, codes: list[str], timeout: float) -> list[ExecResult]:
        with self.lock:
            results: list[ExecResult | None] = [None] * len(codes)
            max_source = self.cfg.max_source
            todo = []
            for i, code in enumerate(codes):
                if not isinstance(code, str):
                    results[i] = ExecResult("rejected", "", "TypeError: program must be str", 0.0)
                elif len(code) > max_source:
                    results[i] = ExecResult(
                        "rejected", "", f"SourceTooLarge: {len(code)} > {max_source} chars", 0.0
                    )
                else:
                    todo.append(i)
            strict = self._run_fast(codes, todo, timeout, results)
            if strict:
                self._run_strict(codes, strict, timeout, results)
            for w in list(self.pool):
                if w.count >= self.cfg.recycle_every:
                    self._retire(w, recycled=True)
            assert all(r is not None for r in results)
            return results  # type: ignore[return-value]

    def _run_fast(
        self, codes: list[str], todo: list[int], timeout: float, results: list[Any]
    ) -> list[int]:
        """Run `todo` on the fast pool; return the indices the strict tier must run."""
        strict: list[int] = []
        hard = timeout + max(0.05, timeout)
        suspect = min(0.005, timeout / 2)  # typical programs take ~0.1 ms
        cap = self.cfg.max_output
        done = bytearray(len(codes))
        size = -(-len(todo) // self.cfg.workers) if todo else 1
        pending: deque[list[int]] = deque(todo[k : k + size] for k in range(0, len(todo), size))
        active: dict[_Worker, _Job] = {}
        while pending or active:
            self._poll_ready(block=not active and not any(w.info for w in self.pool))
            for w in list(self.pool):
                if not pending:
                    break
                if w in active or w.dead or w.info is None:
                    continue
                chunk = [i for i in pending.popleft() if not done[i]]
                if not chunk:
                    continue
                self.seq += 1
                if not w.send((self.seq, timeout, cap, [codes[i] for i in chunk])):
                    pending.appendleft(chunk)
                    self._retire(w)
                    continue
                active[w] = _Job(self.seq, chunk, time.monotonic())
            if not active:
                continue
            now = time.monotonic()
            idle = any(w not in active and w.info is not None and not w.dead for w in self.pool)
            wait = 0.05
            for w, job in active.items():
                seq, i, t0 = w.progress()
                if seq == job.seq and 0 <= i < job.limit and not done[job.chunk[i]]:
                    wait = min(wait, t0 + hard - now)
                    if idle and job.limit > i + 1:
                        wait = min(wait, t0 + suspect - now)
                else:
                    wait = min(wait, job.sent + _SPAWN_TIMEOUT - now)
            fds = [w.res_r for w in active]
            fds += [w.res_r for w in self.pool if w.info is None and not w.dead]
            ready = set(select.select(fds, [], [], max(wait, 0.0005))[0])
            for w in list(active):
                job = active[w]
                if w.res_r in ready:
                    msgs = w.read_messages()
                    if msgs is None:  # the worker died
                        del active[w]
                        self._fast_lost(w, job, done, results, pending, w.exit_reason())
                        continue
                    job.sent = time.monotonic()
                    try:
                        finished = self._take(w, job, msgs, done, results, strict)
                    except (TypeError, ValueError, IndexError, KeyError):
                        finished, w.dead = False, True
                    if w.dead and not finished:  # malformed: a worker not to be trusted
                        del active[w]
                        self._fast_lost(w, job, done, results, pending, _MALFORMED)
                        continue
                    if finished:
                        del active[w]
                        rest = [job.chunk[k] for k in range(job.limit) if not done[job.chunk[k]]]
                        if rest:
                            pending.appendleft(rest)
                        if w.dead:
                            self._retire(w)
                        continue
                seq, i, t0 = w.progress()
                now = time.monotonic()
                if seq == job.seq and 0 <= i < job.limit and not done[job.chunk[i]]:
                    if now - t0 > hard:
                        del active[w]
                        error = f"TimeoutError: exceeded {timeout:g}s"
                        self._fast_lost(w, job, done, results, pending, error, i, now - t0)
                    elif now - t0 > suspect and job.limit > i + 1 and self._has_idle(active):
                        # Hand the rest of the chunk to an idle worker; this one stops at i.
                        rest = [job.chunk[k] for k in range(i + 1, job.limit)]
                        job.limit = i + 1
                        w.set_limit(job.seq, job.limit)
                        pending.appendleft(rest)
                        self.stats["handoffs"] += 1
                elif now - job.sent > _SPAWN_TIMEOUT:
                    del active[w]
                    self._fast_lost(w, job, done, results, pending, "Killed: worker hung")
        return strict

    def _take(
        self,
        w: _Worker,
        job: _Job,
        msgs: list[Any],
        done: bytearray,
        results: list[Any],
        strict: list[int],
    ) -> bool:
        """Record the results in `msgs`; True when the worker says it finished the job."""
        finished = False
        for m in msgs:
            if m[0] != "r" or m[1] != job.seq:
                continue
            for j, status, out, err, dur in m[2]:
                if not (0 <= j < len(job.chunk)) or done[job.chunk[j]]:
                    continue
                idx = job.chunk[j]
                done[idx] = 1
                if not _valid(status, out, err, dur):
                    status, out, err, dur = "killed", "", _MALFORMED, 0.0
                    w.dead = True
                if status == "strict":
                    strict.append(idx)
                else:
                    results[idx] = ExecResult(status, out, err, float(dur))
                    w.count += 1
                    self.stats["fast"] += 1
            if m[3]:
                finished = True
                if m[3] == 2:  # the worker found itself tampered with, or after MemoryError
                    w.dead = True
        return finished

    def _has_idle(self, active: dict[_Worker, _Job]) -> bool:
        return any(w not in active and w.info is not None and not w.dead for w in self.pool)

    def _fast_lost(
        self,
        w: _Worker,
        job: _Job,
        done: bytearray,
        results: list[Any],
        pending: deque[list[int]],
        error: str,
        i: int = -1,
        duration: float = 0.0,
    ) -> None:
        """A worker died or overran: blame the program in progress, requeue the rest, replace it.

        `i` >= 0: the engine killed it for overrunning program `i` (status timeout)."""
        status = "timeout" if i >= 0 else "killed"
        if i < 0:
            seq, i, _ = w.progress()
            if not (seq == job.seq and 0 <= i < job.limit and not done[job.chunk[i]]):
                # No progress record for this chunk: blame its first unfinished program.
                i = next((k for k in range(job.limit) if not done[job.chunk[k]]), -1)
        w.kill()
        if i >= 0:
            done[job.chunk[i]] = 1
            results[job.chunk[i]] = ExecResult(status, "", error, duration)
        rest = [job.chunk[k] for k in range(job.limit) if not done[job.chunk[k]]]
        if rest:
            pending.appendleft(rest)
        self._retire(w)

    def _run_strict(
        self, codes: list[str], todo: list[int], timeout: float, results: list[Any]
    ) -> None:
        deadline = timeout + _STRICT_SLACK
        cap = self.cfg.max_output
        queue = list(todo)
        while queue:
            z = self.zygote
            assert z is not None
            if z.dead or not z.send(
                (self.seq + 1, timeout, deadline, cap, [codes[i] for i in queue])
            ):
                self._replace_zygote()
                continue
            self.seq += 1
            seq = self.seq
            got = [False] * len(queue)
            done = 0
            last = time.monotonic()
            lost = False
            while done < len(queue):
                left = last + deadline + 2.0 - time.monotonic()
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
                        for j, status, out, err, dur in m[2]:
                            if 0 <= j < len(queue) and not got[j]:
                                got[j] = True
                                done += 1
                                if not _valid(status, out, err, dur) or status == "strict":
                                    status, out, err, dur = "killed", "", _MALFORMED, 0.0
                                results[queue[j]] = ExecResult(status, out, err, float(dur))
                                self.stats["strict"] += 1
                except (TypeError, ValueError, IndexError, KeyError):
                    lost = True
                    break
            if lost:
                # The zygote died or hung: blame the program in progress, restart, go on.
                k = next(k for k in range(len(queue)) if not got[k])
                results[queue[k]] = ExecResult("killed", "", "Killed: strict tier failed", 0.0)
                got[k] = True
                self._replace_zygote()
            queue = [queue[k] for k in range(len(queue)) if not got[k]]

    def _replace_zygote(self) -> None:
        if self.zygote is not None:
            self.zygote.kill()
        if self.uid_base is not None:
            _kill_uid(self.uid_base)
        self.stats["replaced"] += 1
        self.zygote = self._spawn_zygote()
        self._track()
        if not self.zygote.wait_ready():
            raise SandboxError("sandbox strict-tier zygote did not start")

    # -- reporting and shutdown -------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        engine_netns = _own_netns()
        fi, si = self.fast_info, self.strict_info
        fast_netns = bool(fi.get("netns_id")) and fi.get("netns_id") != engine_netns
        strict_netns = bool(si.get("netns_id")) and si.get("netns_id") != engine_netns
        uid_drop = bool(fi.get("uid_drop")) and bool(si.get("uid_drop"))
        chroot = bool(fi.get("chroot")) and bool(si.get("chroot"))
        rl = fi.get("rlimits", {})
        layers = ["processes", "rlimits"]
        layers += ["chroot"] if chroot else []
        layers += ["uid"] if uid_drop else []
        layers += ["netns"] if fast_netns and strict_netns else []
        layers += ["pidns"] if si.get("pidns") else []
        if uid_drop and chroot and fast_netns and strict_netns:
            level = "full"
        elif uid_drop or chroot:
            level = "partial"
        else:
            level = "minimal"
        return {
            "backend": "process",
            "level": level,
            "summary": f"{level}: {'+'.join(layers)}, no seccomp",
            "fast_tier": {
                "workers": self.cfg.workers,
                "helper_workers": len(self.pool) - self.cfg.workers,
                "builtins": "restricted",
                "builtin_names": len(fi.get("builtins", [])),
                "rlimits": sorted(k for k, v in rl.items() if v),
                "uid": fi.get("uid"),
                "uid_drop": bool(fi.get("uid_drop")),
                "chroot": bool(fi.get("chroot")),
                "netns": fast_netns,
                "pdeathsig": bool(fi.get("pdeathsig")),
                "no_new_privs": bool(fi.get("no_new_privs")),
                "integrity_check": "after every program",
                "recycle_every": self.cfg.recycle_every,
            },
            "strict_tier": {
                "fork_per_program": True,
                "zygote": "fresh python -I -S",
                "builtins": "full",
                "preloaded_modules": si.get("modules", []),
                "rlimits": ["AS", "CORE", "CPU", "FSIZE", "NOFILE"]
                + (["NPROC"] if si.get("uid_drop") else []),
                "uid": si.get("uid"),
                "uid_drop": bool(si.get("uid_drop")),
                "chroot": bool(si.get("chroot")),
                "netns": strict_netns,
                "pidns": bool(si.get("pidns")),
            },
            "uid_drop": uid_drop,
            "chroot": chroot,
            "netns": fast_netns and strict_netns,
            "pidns": bool(si.get("pidns")),
            "seccomp": False,
            "seccomp_available": self.seccomp_available,
            "env_cleared": True,
            "compile_in_sandbox": True,
            "timeout": self.cfg.timeout,
            "strict_timeout_slack": _STRICT_SLACK,
            "max_output": self.cfg.max_output,
            "max_source": self.cfg.max_source,
            "memory_mb": self.cfg.memory_mb,
            "stats": dict(self.stats),
        }

    def processes(self) -> dict[str, Any]:
        fast = [w.pid for w in self.pool if not w.dead]
        ready = [w.pid for w in self.pool if not w.dead and w.info is not None]
        zyg = self.zygote.pid if self.zygote is not None and not self.zygote.dead else None
        uids = (self.uid_base, self.uid_base + 64) if self.uid_base is not None else None
        return {
            "fast": fast,
            "fast_ready": ready,
            "zygote": zyg,
            "uids": uids,
            "root_dir": self.root_dir,
        }

    def close(self) -> None:
        live = [x for x in [*self.pool, self.zygote] if x is not None]
        self.pool, self.zygote = [], None
        _kill_all(live, self._uids())
        self._spawner.shutdown(wait=False)
        self._finalizer.detach()
        shutil.rmtree(self.root_dir, ignore_errors=True)


def _own_netns() -> int | None:
    try:
        return os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------
# The in-process backend (tests of other modules only: no isolation at all)
# ---------------------------------------------------------------------------------------------


class _InProcessBackend:
    def __init__(self, cfg: SandboxConfig) -> None:
        self.cfg = cfg

    def run_many(self, codes: list[str], timeout: float) -> list[ExecResult]:
        import builtins
        import contextlib
        import io

        out: list[ExecResult] = []
        for code in codes:
            if not isinstance(code, str) or len(code) > self.cfg.max_source:
                out.append(ExecResult("rejected", "", "SourceTooLarge", 0.0))
                continue
            buf = io.StringIO()
            t0 = time.perf_counter()
            end = t0 + timeout

            def tracer(frame: Any, event: str, arg: Any, end: float = end) -> Any:
                if time.perf_counter() > end:
                    raise TimeoutError("deadline")
                return tracer

            status, err = "ok", ""
            old = sys.gettrace()
            try:
                co = compile(code, "<program>", "exec", dont_inherit=True)
                with contextlib.redirect_stdout(buf):
                    sys.settrace(tracer)
                    try:
                        exec(co, {"__builtins__": builtins, "__name__": "__main__"})
                    finally:
                        sys.settrace(old)
            except TimeoutError as e:
                status, err = (
                    ("timeout", "TimeoutError: deadline")
                    if str(e) == "deadline"
                    else (
                        "error",
                        f"TimeoutError: {e}",
                    )
                )
            except SystemExit as e:
                status, err = "killed", f"SystemExit: {e}"
            except Exception as e:  # noqa: BLE001 - any program error is a result
                status, err = "error", f"{type(e).__name__}: {e}"[:300]
            text = buf.getvalue()
            if len(text) > self.cfg.max_output:
                text = text[: self.cfg.max_output]
                if status == "ok":
                    status, err = "error", "OutputLimitExceeded"
            out.append(ExecResult(status, text, err, time.perf_counter() - t0))
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "inprocess",
            "level": "none",
            "summary": "none: in-process exec, tests only",
            "fast_tier": {},
            "strict_tier": {},
            "uid_drop": False,
            "chroot": False,
            "netns": False,
            "pidns": False,
            "seccomp": False,
            "env_cleared": False,
            "compile_in_sandbox": False,
            "timeout": self.cfg.timeout,
        }

    def processes(self) -> dict[str, Any]:
        return {"fast": [], "fast_ready": [], "zygote": None, "uids": None, "root_dir": None}

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


class Sandbox:
    """Executes generated programs in isolated worker processes (see module docstring)."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config if config is not None else SandboxConfig()
        _check_config(self.config)
        self._backend: _ProcessBackend | _InProcessBackend | None = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the worker processes (done by `with` or by the first `run_many`)."""
        if self._backend is None:
            if self.config.backend == "inprocess":
                self._backend = _InProcessBackend(self.config)
            else:
                self._backend = _ProcessBackend(self.config)

    def run_many(self, codes: list[str], timeout: float | None = None) -> list[ExecResult]:
        """Run each program; results in the same order. `timeout` is per program, in seconds."""
        if timeout is None:
            timeout = self.config.timeout
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        if not codes:
            return []
        self.start()
        assert self._backend is not None
        return self._backend.run_many(list(codes), float(timeout))

    def run(self, code: str, timeout: float | None = None) -> ExecResult:
        """Run one program."""
        return self.run_many([code], timeout)[0]

    def describe(self) -> dict[str, Any]:
        """Isolation layers actually in force (starts the workers if needed)."""
        self.start()
        assert self._backend is not None
        return self._backend.describe()

    def processes(self) -> dict[str, Any]:
        """Host pids of the sandbox's own processes, its uid block and chroot (tests, diagnostics).

        `fast`: fast pool processes (`fast_ready`: those past their lock-down); `zygote`: the process the engine started for the strict
        tier (the `unshare` wrapper when a pid namespace is used); `uids`: [lo, hi) range.
        """
        self.start()
        assert self._backend is not None
        return self._backend.processes()

    def close(self) -> None:
        """Stop every worker process; the Sandbox can be started again afterwards."""
        if self._backend is not None:
            backend, self._backend = self._backend, None
            backend.close()


def _main(argv: list[str] | None = None) -> int:
    """`python -m engine.sandbox [--describe]`: start a Sandbox and print what is in force."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] not in ("--describe", "-h", "--help"):
        print(f"usage: python -m engine.sandbox [--describe] (got {args[0]!r})", file=sys.stderr)
        return 2
    if args and args[0] in ("-h", "--help"):
        print("usage: python -m engine.sandbox [--describe]")
        return 0
    with Sandbox() as sb:
        print(json.dumps(sb.describe(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
