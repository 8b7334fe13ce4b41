"""Run untrusted JavaScript: a pool of long-lived node workers, each running many programs.

    with JSRunner(config.sandbox) as js:
        results = js.run_many(codes)               # list[ExecResult], same order as codes
        grid = js.run_cases(codes, cases)          # grid[i][j]: program i with case j's globals
        js.describe()                              # isolation layers in force, read from /proc

Each worker (`worker.js`) runs programs in a frozen, shared vm context with everything host-side
out of reach, and ends a program that overruns its timeout itself (vm's `timeout`). The
engine enforces the hard deadline: a worker whose current program (read from a 16-byte marker file
the worker updates before every program) has run `timeout + HARD_MARGIN` is SIGKILLed, that program
is `timeout`, the rest of its chunk is re-queued and the worker is replaced. A worker that dies on
its own (V8 out of memory aborts the process) blames its current program with `killed`.

Isolation of each worker process (see `describe()`; every layer checked from /proc in the tests):
new network, IPC and UTS namespaces; rlimits (address space, no core, no file growth, few fds,
threads only for its own private uid); a chroot holding only node, its libraries and the worker
script; a private uid never shared with a live process; PR_SET_PDEATHSIG and NO_NEW_PRIVS; a
seccomp filter denying process creation, exec, IPC, namespaces, keyrings, sockets other than
AF_UNIX and signals to other processes. Without root: no chroot, uid drop or namespaces.
"""

from __future__ import annotations

import json
import mmap
import os
import random
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
from pathlib import Path
from typing import Any

from engine.config import SandboxConfig
from engine.sandbox import ExecResult, SandboxError

__all__ = ["JSRunner", "find_node"]

WORKER_SCRIPT = Path(__file__).with_name("worker.js")
LAUNCHER = Path(__file__).with_name("_launch.py")
HARD_MARGIN = 0.1  # seconds past the timeout before the engine SIGKILLs a worker
CHUNK_RUNS = 64  # program-case runs per request to a worker
_SPAWN_TIMEOUT = 15.0
_MAX_ATTEMPTS = 3  # a run whose worker died this often without blaming anyone: `killed`
_UID_BLOCK = 1 << 16


def find_node() -> str | None:
    """Path of the node binary, or None when node is not installed."""
    for cand in (os.environ.get("ALTLAS_NODE"), shutil.which("node"), "/usr/bin/node"):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.realpath(cand)
    return None


def _shared_libraries(binary: str) -> list[tuple[str, str]]:
    """(path the loader looks for, real file) for every library of `binary`, via ldd."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    pairs: list[tuple[str, str]] = []
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts:
            i = parts.index("=>")
            if i + 1 < len(parts) and parts[i + 1].startswith("/"):
                pairs.append((parts[i + 1], os.path.realpath(parts[i + 1])))
        elif parts and parts[0].startswith("/"):
            pairs.append((parts[0], os.path.realpath(parts[0])))
    return pairs


def _place(src: str, dest: Path) -> None:
    """Hard-link `src` to `dest` (same file system), else copy it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def _build_root(node: str) -> Path:
    """A directory holding only node, its shared libraries and the worker script."""
    root = Path(tempfile.mkdtemp(prefix=f"altlas-js-root-{os.getpid()}-"))
    os.chmod(root, 0o755)
    _place(node, root / "usr/bin/node")
    for wanted, real in _shared_libraries(node):
        _place(real, root / wanted.lstrip("/"))
    shutil.copyfile(WORKER_SCRIPT, root / "worker.js")
    os.chmod(root / "worker.js", 0o444)
    return root


def _remove_stale_roots() -> None:
    """Roots left behind by engines that died (named after their pid)."""
    tmp = Path(tempfile.gettempdir())
    for p in tmp.glob("altlas-js-root-*"):
        try:
            pid = int(p.name.split("-")[3])
        except (IndexError, ValueError):
            continue
        if not Path(f"/proc/{pid}").exists():
            shutil.rmtree(p, ignore_errors=True)


def _uid_base() -> int:
    """A block of uids no account uses (root only)."""
    import pwd

    used = {p.pw_uid for p in pwd.getpwall()}
    rng = random.SystemRandom()
    while True:
        base = rng.randrange(300_000, 2_000_000_000 - _UID_BLOCK)
        if not any(base <= u < base + _UID_BLOCK for u in used):
            return base


class _Worker:
    """One node process and its marker file."""

    def __init__(self, argv: list[str], marker_fd: int, uid: int | None) -> None:
        self.uid = uid
        self.marker_fd = marker_fd
        self.marker = mmap.mmap(marker_fd, 16, prot=mmap.PROT_READ)
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            pass_fds=(marker_fd,),
            start_new_session=True,  # its own process group: killed as a whole
            env={"LC_ALL": "C.UTF-8"},
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.fd_out = self.proc.stdout.fileno()
        self.buf = bytearray()
        self.programs = 0
        self.chunk: list[tuple[int, int]] | None = None  # (unit, case) runs in flight
        self.chunk_units: list[int] = []
        self.sent_at = 0.0
        self.facts: dict[str, Any] = {}
        os.set_blocking(self.fd_out, False)
        deadline = time.monotonic() + _SPAWN_TIMEOUT
        msg = None
        while msg is None:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.kill()
                raise SandboxError("javascript worker did not start")
            select.select([self.fd_out], [], [], min(left, 0.5))
            msg = self.poll_message()
        self.facts = msg.get("ready", {})

    def poll_message(self) -> dict[str, Any] | None:
        """Read what is available; return a complete message if there is one."""
        try:
            while True:
                data = os.read(self.fd_out, 1 << 20)
                if not data:
                    break
                self.buf += data
        except BlockingIOError:
            pass
        if len(self.buf) >= 4:
            n = struct.unpack_from("<I", self.buf)[0]
            if len(self.buf) >= 4 + n:
                body = bytes(self.buf[4 : 4 + n])
                del self.buf[: 4 + n]
                return json.loads(body)
        return None

    def send(self, obj: dict[str, Any]) -> None:
        body = json.dumps(obj).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(struct.pack("<I", len(body)) + body)
        self.proc.stdin.flush()

    def current(self) -> tuple[int, int, float]:
        """(unit, case, start in CLOCK_MONOTONIC seconds) of the running program; unit -1: idle."""
        unit, case, start = struct.unpack("<iid", self.marker[:16])
        return unit, case, start / 1000.0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
        try:
            self.marker.close()
        except (BufferError, ValueError):
            pass
        try:
            os.close(self.marker_fd)
        except OSError:
            pass


def _kill_all(workers: list[_Worker], root: Path | None) -> None:
    for w in workers:
        w.kill()
    if root is not None:
        shutil.rmtree(root, ignore_errors=True)


class JSRunner:
    """Executes JavaScript programs in isolated node workers (see module docstring)."""

    def __init__(self, config: SandboxConfig | None = None, node: str | None = None) -> None:
        self.cfg = config if config is not None else SandboxConfig()
        self.node = node or find_node()
        if self.node is None:
            raise SandboxError("node is not installed (needed for JavaScript tasks)")
        self.is_root = os.geteuid() == 0
        self.root: Path | None = None
        self.uid_base = _uid_base() if self.is_root else None
        self.next_uid = 0
        self.pool: list[_Worker] = []
        self.lock = threading.Lock()
        # Workers are started from one long-lived thread: PR_SET_PDEATHSIG follows the thread
        # that forked them, so a short-lived caller thread must not be their parent.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="altlas-js-spawn")
        self._finalizer = weakref.finalize(self, _kill_all, self.pool, None)
        self.spawn_failures = 0
        self.started = False

    # -- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> JSRunner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Build the chroot (as root) and start the workers."""
        if self.started:
            return
        if self.is_root:
            _remove_stale_roots()
            self.root = _build_root(self.node)
            self._finalizer.detach()
            self._finalizer = weakref.finalize(self, _kill_all, self.pool, self.root)
        self.started = True
        futures = [self._spawner.submit(self._spawn) for _ in range(self.cfg.workers)]
        for f in futures:
            self.pool.append(f.result())

    def close(self) -> None:
        """Kill every worker and remove the chroot."""
        workers, self.pool[:] = list(self.pool), []
        _kill_all(workers, self.root)
        self.root = None
        self._spawner.shutdown(wait=False)
        self._finalizer.detach()
        self.started = False

    def _new_uid(self) -> int | None:
        if self.uid_base is None:
            return None
        live = {w.uid for w in self.pool}
        while True:
            uid = self.uid_base + 1 + self.next_uid % (_UID_BLOCK - 1)
            self.next_uid += 1
            if uid not in live:
                return uid

    def _spawn(self) -> _Worker:
        """Start one worker, retrying with backoff on a fresh uid."""
        last: Exception | None = None
        for attempt in range(4):
            uid = self._new_uid()
            marker_fd = os.memfd_create("altlas-js-marker", os.MFD_CLOEXEC)
            os.ftruncate(marker_fd, 16)
            os.pwrite(marker_fd, struct.pack("<iid", -1, -1, 0.0), 0)
            settings = {
                "node": "/usr/bin/node" if self.root else self.node,
                "script": "/worker.js" if self.root else str(WORKER_SCRIPT),
                "args": [
                    f"--max-old-space-size={self.cfg.memory_mb}",
                    "--disallow-code-generation-from-strings",
                    "--no-expose-wasm",
                    "--stack-size=900",
                ],
                "root": str(self.root) if self.root else None,
                "uid": uid,
                "gid": uid,
                "memory_mb": self.cfg.memory_mb,
                "nofile": 64,
                "nproc": 64,
                "seccomp": True,
                "namespaces": self.is_root,
                "marker_fd": marker_fd,
            }
            argv = [sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(settings)]
            try:
                return _Worker(argv, marker_fd, uid)
            except (SandboxError, OSError) as e:
                last = e
                self.spawn_failures += 1
                try:
                    os.close(marker_fd)
                except OSError:
                    pass
                time.sleep(0.05 * 2**attempt)
        raise SandboxError(f"javascript worker could not start: {last}")

    def _replace(self, w: _Worker) -> None:
        w.kill()
        i = self.pool.index(w)
        self.pool[i] = self._spawner.submit(self._spawn).result()

    # -- running ----------------------------------------------------------------------------------

    def run_many(self, codes: list[str], timeout: float | None = None) -> list[ExecResult]:
        """Run each program once with no extra globals; results in the same order."""
        return [row[0] for row in self._run(codes, [None], timeout)]

    def run_cases(
        self,
        codes: list[str],
        cases: list[dict[str, Any]],
        timeout: float | None = None,
        stop_on_timeout: bool = False,
    ) -> list[list[ExecResult]]:
        """Run every program on every case (a case's items become globals); grid[i][j].

        `stop_on_timeout`: a program that overran its timeout on a case (really ran that long,
        not starved by a loaded machine) is not run on its later cases of the same request:
        they are reported `timeout` too (each would cost the full timeout again)."""
        encoded: list[str | None] = []
        for j, case in enumerate(cases):
            if not isinstance(case, dict) or not all(isinstance(k, str) for k in case):
                raise ValueError(f"case {j}: expected a dict with string keys")
            encoded.append(json.dumps(case))
        return self._run(codes, encoded, timeout, stop_on_timeout)

    def _run(
        self, codes: list[str], cases: list[str | None], timeout: float | None, stop: bool = False
    ) -> list[list[ExecResult]]:
        if timeout is None:
            timeout = self.cfg.timeout
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        if not self.started:
            self.start()
        n_cases = len(cases)
        grid: list[list[ExecResult | None]] = [[None] * n_cases for _ in codes]
        todo: deque[tuple[int, int]] = deque()
        for i, code in enumerate(codes):
            if not isinstance(code, str) or len(code) > self.cfg.max_source:
                why = "not a string" if not isinstance(code, str) else "source too long"
                grid[i] = [ExecResult("rejected", "", why, 0.0)] * n_cases
            else:
                todo.extend((i, j) for j in range(n_cases))
        attempts: dict[tuple[int, int], int] = {}
        with self.lock:
            self._schedule(codes, cases, timeout, grid, todo, attempts, stop)
        return [
            [r if r is not None else ExecResult("killed", "", "lost", 0.0) for r in row]
            for row in grid
        ]

    def _schedule(
        self,
        codes: list[str],
        cases: list[str | None],
        timeout: float,
        grid: list[list[ExecResult | None]],
        todo: deque[tuple[int, int]],
        attempts: dict[tuple[int, int], int],
        stop: bool = False,
    ) -> None:
        chunk_runs = max(1, min(CHUNK_RUNS, -(-len(todo) // (2 * len(self.pool)))))
        busy: dict[int, _Worker] = {}
        hard = timeout + HARD_MARGIN
        while todo or busy:
            for w in self.pool:
                if not todo:
                    break
                if w.chunk is None:
                    if w.programs >= self.cfg.recycle_every:
                        self._replace_idle(w)
                        continue
                    self._send_chunk(w, codes, cases, timeout, todo, chunk_runs, stop)
                    busy[w.fd_out] = w
            if not busy:
                continue
            ready, _, _ = select.select(list(busy), [], [], 0.01)
            for fd in ready:
                w = busy[fd]
                try:
                    msg = w.poll_message()
                except (OSError, ValueError):
                    msg = None
                if msg is not None:
                    self._accept(w, msg, grid)
                    del busy[fd]
                elif not w.alive() or (w.proc.stdout is not None and self._hung_up(w)):
                    del busy[fd]
                    self._worker_died(w, grid, todo, attempts, killed_by_us=False)
            now = time.monotonic()
            for fd, w in list(busy.items()):
                unit, case, start = w.current()
                # A chunk that takes longer than all its programs could (the worker stuck
                # between programs) is treated like an overrun too.
                stuck = now - w.sent_at > len(w.chunk or ()) * hard + 5.0
                if (unit >= 0 and case >= 0 and now - start > hard) or stuck:
                    del busy[fd]
                    self._worker_died(w, grid, todo, attempts, killed_by_us=True)

    @staticmethod
    def _hung_up(w: _Worker) -> bool:
        return w.proc.poll() is not None

    def _replace_idle(self, w: _Worker) -> None:
        self._replace(w)

    def _send_chunk(
        self,
        w: _Worker,
        codes: list[str],
        cases: list[str | None],
        timeout: float,
        todo: deque[tuple[int, int]],
        chunk_runs: int,
        stop: bool = False,
    ) -> None:
        runs: list[tuple[int, int]] = []
        while todo and len(runs) < chunk_runs:
            runs.append(todo.popleft())
        # a program's cases stay together: the worker runs them in one call
        while todo and todo[0][0] == runs[-1][0]:
            runs.append(todo.popleft())
        # Group consecutive runs of one program into a unit (compiled once in the worker; its
        # cases run in one timed call unless the program may queue microtasks).
        units: list[list[Any]] = []
        unit_of: list[int] = []
        for i, j in runs:
            if not unit_of or unit_of[-1] != i:
                units.append([codes[i], []])
                unit_of.append(i)
            units[-1][1].append(cases[j])
        w.chunk = runs
        w.chunk_units = unit_of
        w.sent_at = time.monotonic()
        try:
            w.send({"timeout": timeout, "max_output": self.cfg.max_output, "units": units,
                    "stop_on_timeout": stop})  # fmt: skip
        except (BrokenPipeError, OSError):
            pass  # noticed as a dead worker by the loop

    def _chunk_layout(self, w: _Worker) -> list[list[tuple[int, int]]]:
        """The chunk's runs grouped per unit, in request order."""
        assert w.chunk is not None
        layout: list[list[tuple[int, int]]] = []
        prev = -1
        for i, j in w.chunk:
            if i != prev:
                layout.append([])
                prev = i
            layout[-1].append((i, j))
        return layout

    def _accept(self, w: _Worker, msg: dict[str, Any], grid: list[list[ExecResult | None]]) -> None:
        layout = self._chunk_layout(w)
        for unit_runs, row in zip(layout, msg["results"], strict=True):
            for (i, j), r in zip(unit_runs, row, strict=True):
                grid[i][j] = ExecResult(str(r[0]), str(r[1]), str(r[2]), float(r[3]))
        w.programs += len(w.chunk or ())
        w.chunk = None

    def _worker_died(
        self,
        w: _Worker,
        grid: list[list[ExecResult | None]],
        todo: deque[tuple[int, int]],
        attempts: dict[tuple[int, int], int],
        killed_by_us: bool,
    ) -> None:
        """Blame the running program, re-queue the rest of the chunk, replace the worker."""
        unit, case, start = w.current()
        elapsed = max(0.0, time.monotonic() - start) if unit >= 0 else 0.0
        if not killed_by_us:
            w.kill()
        layout = self._chunk_layout(w)
        code = w.proc.returncode
        blamed: tuple[int, int] | None = None
        if 0 <= unit < len(layout) and 0 <= case < len(layout[unit]):
            blamed = layout[unit][case]
        if killed_by_us:
            w.kill()
        for run in w.chunk or ():
            if run == blamed:
                i, j = run
                if killed_by_us:
                    grid[i][j] = ExecResult("timeout", "", "Timeout: hard deadline", elapsed)
                else:
                    grid[i][j] = ExecResult("killed", "", _death_reason(code), elapsed)
                continue
            n = attempts.get(run, 0) + (1 if blamed is None else 0)
            attempts[run] = n
            if n >= _MAX_ATTEMPTS:
                i, j = run
                grid[i][j] = ExecResult("killed", "", _death_reason(code), 0.0)
            else:
                todo.appendleft(run)
        w.chunk = None
        self._replace(w)

    # -- facts ------------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """The isolation layers actually in force, read from /proc for the first worker."""
        if not self.started:
            self.start()
        w = self.pool[0]
        pid = w.proc.pid
        facts: dict[str, Any] = {
            "backend": "node",
            "node": w.facts.get("node"),
            "workers": len(self.pool),
        }
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            status = ""
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        facts["uid"] = int(fields.get("Uid", "-1").split()[0]) if "Uid" in fields else None
        facts["uid_drop"] = facts["uid"] not in (None, 0, os.geteuid())
        facts["seccomp"] = fields.get("Seccomp", "").strip() == "2"
        facts["no_new_privs"] = fields.get("NoNewPrivs", "").strip() == "1"
        ns = {}
        for kind in ("net", "ipc", "uts"):
            try:
                ns[kind] = os.readlink(f"/proc/{pid}/ns/{kind}") != os.readlink(
                    f"/proc/self/ns/{kind}"
                )
            except OSError:
                ns[kind] = False
        facts["namespaces"] = ns
        try:
            facts["chroot"] = os.readlink(f"/proc/{pid}/root") != "/"
        except OSError:
            facts["chroot"] = False
        layers = [facts["uid_drop"], facts["chroot"], ns["net"], facts["seccomp"]]
        facts["level"] = "full" if all(layers) else ("partial" if any(layers) else "minimal")
        facts["summary"] = (
            f"{facts['level']}: node vm contexts"
            + (", uid drop" if facts["uid_drop"] else "")
            + (", chroot" if facts["chroot"] else "")
            + (", net/ipc/uts namespaces" if all(ns.values()) else "")
            + (", seccomp" if facts["seccomp"] else "")
            + ", rlimits"
        )
        return facts


def _death_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"killed: {name}"
    if code == 134 or code == 133:
        return "killed: out of memory"
    return f"killed: worker exited ({code})"
