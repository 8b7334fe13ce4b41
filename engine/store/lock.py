"""The single-writer lock: one altlas-tui process writes checkpoints and runs at a time.

fcntl.flock on a file in the state folder; the kernel drops the lock when the holder exits, also
after kill -9, so there are no stale locks to clean up. The file holds who took it (pid, host,
start time, command) so a second instance can say who is in the way.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows; the sandbox needs POSIX anyway
    fcntl = None  # type: ignore[assignment]


class LockHeld(Exception):
    """Another altlas-tui process holds the writer lock. `info` says who (may be None)."""

    def __init__(self, path: Path, info: dict[str, Any] | None) -> None:
        self.path = Path(path)
        self.info = info
        super().__init__(describe_holder(self.path, info))


def describe_holder(path: Path, info: dict[str, Any] | None) -> str:
    """One line naming the process holding `path` and what the person can do."""
    advice = "open read-only to watch its runs, or stop that process first"
    if not info:
        return f"another altlas-tui process holds {path}; {advice}"
    details = [f"pid {info.get('pid', '?')}"]
    host = info.get("host")
    if host and host != socket.gethostname():
        details.append(f"on {host}")
    started = info.get("started_at")
    if isinstance(started, (int, float)):
        fmt = "%H:%M" if time.time() - started < 20 * 3600 else "%Y-%m-%d %H:%M"
        details.append(f"started {time.strftime(fmt, time.localtime(started))}")
    command = info.get("command")
    if command:
        details.append(f"'{command}'")
    return f"altlas-tui ({', '.join(details)}) holds {path}; {advice}"


def read_holder(path: Path, tries: int = 3) -> dict[str, Any] | None:
    """The holder's info from the lock file, or None if absent or unreadable."""
    for attempt in range(tries):
        try:
            text = Path(path).read_text(encoding="utf-8")
            if text.strip():
                info = json.loads(text)
                return info if isinstance(info, dict) else None
        except (OSError, ValueError):
            pass
        if attempt + 1 < tries:  # the holder may be between truncate and write
            time.sleep(0.02)
    return None


def default_command() -> str:
    args = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
    text = " ".join(args)
    return text if len(text) <= 120 else text[:117] + "..."


class WriterLock:
    """An exclusive, non-blocking, process-wide lock on a file."""

    def __init__(self, path: Path, command: str | None = None) -> None:
        self.path = Path(path)
        self.command = command if command is not None else default_command()
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise LockHeld saying who has it."""
        if self._fd is not None:
            return
        if fcntl is None:  # pragma: no cover
            raise OSError("the writer lock needs fcntl (Linux or macOS)")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            os.close(fd)
            raise LockHeld(self.path, read_holder(self.path)) from None
        except OSError as e:  # e.g. ENOLCK on a filesystem without locks: say so, not "held"
            os.close(fd)
            raise OSError(e.errno, f"cannot lock {self.path}: {e.strerror}") from e
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": time.time(),
            "command": self.command,
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
            os.fsync(fd)
        except OSError:
            pass  # the lock is what matters; the note is a courtesy
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
