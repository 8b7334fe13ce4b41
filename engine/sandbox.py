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
        self.send(settings)

    def send(self, obj: Any) -> bool:
        data = memoryview(_pack(obj))
        try:
            while data:
                n = os.write(self.cmd_w, data)
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
            except ValueError:
                self.dead = True
                return None
            pos += _HDR + n
        if pos:
            del buf[:pos]
        return msgs

    def wait_ready(self, timeout: float = _SPAWN_TIMEOUT) -> bool:
        end = time.monotonic() + timeout
        while self.info is None and not self.dead:
            left = end - time.monotonic()
            if left <= 0:
                return False
            if select.select([self.res_r], [], [], left)[0]:
                msgs = self.read_messages()
                if msgs is None:
                    return False
                for m in msgs:
                    if m[0] == "ready":
                        self.info = m[1]
        return self.info is not None

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


class _ProcessBackend:
    def __init__(self, cfg: SandboxConfig) -> None:
        self.cfg = cfg
        self.root_dir = tempfile.mkdtemp(prefix="altlas_sandbox_root_")
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
        self.workers: list[_Worker] = []
        self.spares: deque[_Worker] = deque()
        self.zygote: _Worker | None = None
        self.next_fast_uid = 1
        self.stats = {"fast": 0, "strict": 0, "replaced": 0, "recycled": 0}
        self._finalizer = weakref.finalize(self, _kill_all, [], [])
        try:
            for _ in range(cfg.workers):
                self.workers.append(self._spawn_fast())
            self.spares.append(self._spawn_fast())
            self.zygote = self._spawn_zygote()
            for w in [*self.workers, self.zygote]:
                if not w.wait_ready():
                    raise SandboxError(f"sandbox {w.kind} worker did not start")
        except BaseException:
            self.close()
            raise
        self.fast_info = self.workers[0].info or {}
        self.strict_info = self.zygote.info or {}

    # -- spawning ---------------------------------------------------------------------------

    def _uids(self) -> list[int]:
        if self.uid_base is None:
            return []
        return list(range(self.uid_base, self.uid_base + 64))

    def _track(self, w: _Worker) -> _Worker:
        self._finalizer.detach()
        live = [x for x in [*self.workers, *self.spares, self.zygote, w] if x is not None]
        self._finalizer = weakref.finalize(self, _kill_all, live, self._uids())
        return w

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
            # Each fast worker gets its own uid, so RLIMIT_NPROC=1 and kill(-1) stay per process.
            uid = self.uid_base + 1 + self.next_fast_uid % 63
            self.next_fast_uid += 1
        return self._track(_Worker("fast", self.fast_prefix, self._settings(uid)))

    def _spawn_zygote(self) -> _Worker:
        uid = self.uid_base if self.uid_base is not None else None
        return self._track(_Worker("zygote", self.zygote_prefix, self._settings(uid)))

    def _replace(self, w: _Worker, recycled: bool = False) -> _Worker:
        """Kill `w` and put a ready spare in its place (spawning the next spare)."""
        w.kill()
        if self.uid_base is not None and w.info:
            _kill_uid(w.info.get("uid", -1))
        self.stats["recycled" if recycled else "replaced"] += 1
        while True:
            new = self.spares.popleft() if self.spares else self._spawn_fast()
            self.spares.append(self._spawn_fast())
            if new.wait_ready():
                break
            new.kill()
            if not self.spares[0].wait_ready():
                raise SandboxError("sandbox fast worker did not start")
        self.workers[self.workers.index(w)] = new
        self._track(new)
        return new

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
            for w in list(self.workers):
                if w.count >= self.cfg.recycle_every:
                    self._replace(w, recycled=True)
            assert all(r is not None for r in results)
            return results  # type: ignore[return-value]

    def _run_fast(
        self, codes: list[str], todo: list[int], timeout: float, results: list[Any]
    ) -> list[int]:
        """Run `todo` on the fast workers; return the indices the strict tier must run."""
        strict: list[int] = []
        hard = timeout + max(0.05, timeout)
        cap = self.cfg.max_output
        n = len(self.workers)
        size = -(-len(todo) // n) if todo else 0
        pending: deque[list[int]] = deque(
            todo[k : k + size] for k in range(0, len(todo), size) if size
        )
        # worker -> [seq, chunk, received flags, n received, time sent]
        active: dict[_Worker, list[Any]] = {}
        while pending or active:
            for w in list(self.workers):
                if not pending:
                    break
                if w in active:
                    continue
                if w.dead:
                    w = self._replace(w)
                chunk = pending.popleft()
                self.seq += 1
                if not w.send((self.seq, timeout, cap, [codes[i] for i in chunk])):
                    pending.appendleft(chunk)
                    self._replace(w)
                    continue
                active[w] = [self.seq, chunk, [False] * len(chunk), 0, time.monotonic()]
            if not active:
                continue
            now = time.monotonic()
            wait = 0.05
            for w, st in active.items():
                seq, i, t0 = w.progress()
                if seq == st[0] and 0 <= i < len(st[1]) and not st[2][i]:
                    wait = min(wait, t0 + hard - now)
                else:
                    wait = min(wait, st[4] + _SPAWN_TIMEOUT - now)
            ready = select.select([w.res_r for w in active], [], [], max(wait, 0.0005))[0]
            for w in list(active):
                st = active[w]
                if w.res_r in ready:
                    msgs = w.read_messages()
                    if msgs is None:  # the worker died
                        self._fast_lost(w, st, results, pending, w.exit_reason())
                        del active[w]
                        continue
                    for m in msgs:
                        if m[0] != "r" or m[1] != st[0]:
                            continue
                        for j, status, out, err, dur in m[2]:
                            if not (0 <= j < len(st[1])) or st[2][j]:
                                continue
                            st[2][j] = True
                            st[3] += 1
                            idx = st[1][j]
                            if status == "strict":
                                strict.append(idx)
                            else:
                                results[idx] = ExecResult(status, out, err, dur)
                                w.count += 1
                                self.stats["fast"] += 1
                        if m[3] == 2:  # the worker found itself tampered with and quit
                            w.dead = True
                    if st[3] == len(st[1]):
                        del active[w]
                        if w.dead:
                            self._replace(w)
                        continue
                    if w.dead:
                        self._fast_lost(w, st, results, pending, "Killed: worker quit")
                        del active[w]
                        continue
                # Hard deadline of the program in progress.
                seq, i, t0 = w.progress()
                now = time.monotonic()
                if seq == st[0] and 0 <= i < len(st[1]) and not st[2][i]:
                    if now - t0 > hard:
                        self._fast_lost(
                            w,
                            st,
                            results,
                            pending,
                            f"TimeoutError: exceeded {timeout:g}s",
                            status="timeout",
                            duration=now - t0,
                        )
                        del active[w]
                elif now - st[4] > _SPAWN_TIMEOUT:
                    self._fast_lost(w, st, results, pending, "Killed: worker stopped answering")
                    del active[w]
        return strict

    def _fast_lost(
        self,
        w: _Worker,
        st: list[Any],
        results: list[Any],
        pending: deque[list[int]],
        error: str,
        status: str = "killed",
        duration: float = 0.0,
    ) -> None:
        """A worker died or was killed mid-chunk: blame the program in progress, requeue the rest."""
        seq, i, t0 = w.progress() if w.mm is not None else (-1, -1, 0.0)
        w.kill()
        chunk, got = st[1], st[2]
        if not (seq == st[0] and 0 <= i < len(chunk) and not got[i]):
            # No progress record for this chunk: blame its first unfinished program.
            i = next((k for k in range(len(chunk)) if not got[k]), -1)
        if i >= 0:
            results[chunk[i]] = ExecResult(status, "", error, duration)
            got[i] = True
        rest = [chunk[k] for k in range(len(chunk)) if not got[k]]
        if rest:
            pending.appendleft(rest)
        self._replace(w)

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
                for m in msgs:
                    if m[0] != "r" or m[1] != seq:
                        continue
                    for j, status, out, err, dur in m[2]:
                        if 0 <= j < len(queue) and not got[j]:
                            got[j] = True
                            done += 1
                            results[queue[j]] = ExecResult(status, out, err, dur)
                            self.stats["strict"] += 1
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
        if not self.zygote.wait_ready():
            raise SandboxError("sandbox strict-tier zygote did not start")
        self._track(self.zygote)

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
                "workers": len(self.workers),
                "spare_workers": len(self.spares),
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
            "seccomp_available": _seccomp_available(),
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
        fast = [w.pid for w in [*self.workers, *self.spares] if not w.dead]
        zyg = self.zygote.pid if self.zygote is not None and not self.zygote.dead else None
        uids = (self.uid_base, self.uid_base + 64) if self.uid_base is not None else None
        return {"fast": fast, "zygote": zyg, "uids": uids, "root_dir": self.root_dir}

    def close(self) -> None:
        live = [x for x in [*self.workers, *self.spares, self.zygote] if x is not None]
        self.workers, self.spares, self.zygote = [], deque(), None
        _kill_all(live, self._uids())
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
        return {"fast": [], "zygote": None, "uids": None, "root_dir": None}

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

        `fast`: fast workers and spares; `zygote`: the process the engine started for the strict
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
