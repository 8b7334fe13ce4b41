"""Sandbox processes seen from the engine: start, talk to, kill; and the uid pool.

Every process is started in its own session (process group = its pid), so killing it means
SIGKILL to that group; nothing is ever killed by guessing from a uid while the Sandbox runs.
Uids come from a pool in which a uid returns only after its process was reaped, and is handed
out again only after every other free uid (FIFO over a block of 1024): a fast worker cannot
fork (RLIMIT_NPROC=1, seccomp), so a reaped worker's uid has no live process left.
"""

from __future__ import annotations

import mmap
import os
import select
import signal
import struct
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from .layers import CLEAN_ENV
from .protocol import pack, parse_frames

WORKER_SCRIPT = str(Path(__file__).with_name("worker") / "entry.py")
SPAWN_TIMEOUT = 10.0
# Progress page of a fast worker: (seq, program index, case start time, case index) at 0,
# the engine's stop mark (seq, limit) at 32.
_PROGRESS = "<qqdq"
_LIMIT_AT = 32


class UidPool:
    """Uids of one Sandbox: FIFO, a uid returns only once its process is known dead."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi
        self.free: deque[int] = deque(range(lo, hi))

    def take(self) -> int:
        if not self.free:
            from .result import SandboxError

            raise SandboxError("sandbox unusable: no free uid left in its block")
        return self.free.popleft()

    def give(self, uid: int) -> None:
        self.free.append(uid)


class Worker:
    """One sandbox process (fast worker or zygote) and its pipes."""

    def __init__(self, kind: str, prefix: list[str], settings: dict[str, Any]) -> None:
        self.kind = kind
        self.info: dict[str, Any] | None = None
        self.buf = bytearray()
        self.count = 0
        self.dead = False
        self.killed = False
        self.reaped = False
        self.uid: int | None = settings.get("uid")
        self.started = time.monotonic()
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        fds = [cmd_r, res_w]
        self.mm: mmap.mmap | None = None
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
                env=CLEAN_ENV,
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except BaseException:
            for fd in (self.cmd_w, self.res_r):
                os.close(fd)
            raise
        finally:
            for fd in fds:
                os.close(fd)
        self.pid = self.proc.pid
        os.set_blocking(self.cmd_w, False)  # a worker that stops reading cannot block the engine
        self.send(settings)

    def send(self, obj: Any, timeout: float = SPAWN_TIMEOUT) -> bool:
        """Write one message; False if the process is gone or stopped reading."""
        data = memoryview(pack(obj))
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
        """Read what is available; None on EOF or garbage (the process is gone or subverted)."""
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
        msgs = parse_frames(self.buf)
        if msgs is None:
            self.dead = True
        return msgs

    def wait_ready(self, timeout: float = SPAWN_TIMEOUT) -> bool:
        """Wait for the start-up message (the process's lock-down report)."""
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
            struct.pack_into("<qq", self.mm, _LIMIT_AT, seq, limit)

    def progress(self) -> tuple[int, int, float, int]:
        """(seq, program, start of its current case, case) as the worker last wrote them."""
        assert self.mm is not None
        a = struct.unpack_from(_PROGRESS, self.mm, 0)
        b = struct.unpack_from(_PROGRESS, self.mm, 0)
        return b if a == b else (-1, -1, 0.0, 0)

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

    def kill(self) -> bool:
        """SIGKILL the process group and reap; True once the process is known to be gone."""
        self.dead = True
        if not self.killed:
            self.killed = True
            for fn in (os.killpg, os.kill):
                try:
                    fn(self.pid, signal.SIGKILL)
                except OSError:
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
        if not self.reaped:
            try:
                self.proc.wait(timeout=5)
                self.reaped = True
            except subprocess.TimeoutExpired:
                pass
        return self.reaped


def kill_uids(lo: int, hi: int) -> int:
    """SIGKILL every process whose real uid is in [lo, hi) (root; at close only). Returns the
    count. A last sweep for anything a layer failed to contain: the block is ours alone."""
    n = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"Uid:"):
                        if lo <= int(line.split()[1]) < hi:
                            os.kill(int(entry.name), signal.SIGKILL)
                            n += 1
                        break
        except (OSError, ValueError):
            continue
    return n


def kill_all(workers: list[Worker], uids: tuple[int, int] | None) -> None:
    """Kill every worker, then every process left in the uid block."""
    for w in workers:
        w.kill()
    if uids is not None and os.geteuid() == 0:
        kill_uids(*uids)
