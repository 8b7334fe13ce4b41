"""The viewer side of attach: connect to a live run and look like an engine to the app."""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path
from typing import Any

from altlas_tui.attach.protocol import LineReader, encode, socket_path
from engine.control import Control
from engine.events import Event
from engine.snapshot import Snapshot, snapshot_from_dict
from engine.summary import RunSummary

CONNECT_TIMEOUT = 5.0


class AttachError(Exception):
    """No live run to attach to (the message says why, in one line)."""


class Connection:
    """An open, greeted connection to a live run."""

    def __init__(self, sock: socket.socket, reader: LineReader, welcome: dict[str, Any]) -> None:
        self.sock = sock
        self.reader = reader
        self.welcome = welcome
        self.pending: list[dict[str, Any]] = []  # messages that came with the welcome

    @property
    def steering(self) -> bool:
        return bool(self.welcome.get("steer"))

    @property
    def pid(self) -> int:
        return int(self.welcome.get("pid", 0))


def live_run(path: Path | None = None) -> bool:
    """True when a run is serving on this data dir's socket."""
    path = path or socket_path()
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(str(path))
        return True
    except OSError:
        return False


def connect(steer: bool = True, path: Path | None = None) -> Connection:
    """Connect and say hello; raises AttachError with a one-line reason."""
    path = path or socket_path()
    if not path.exists():
        raise AttachError(
            f"no run to attach to: nothing listens at {path} (start one with `altlas-tui train`)"
        )
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT)
    try:
        sock.connect(str(path))
        sock.sendall(encode({"type": "hello", "steer": steer}))
        reader = LineReader(sock)
        while True:
            messages = reader.messages()
            if messages is None:
                raise AttachError(f"the run at {path} closed the connection")
            for i, message in enumerate(messages):
                if message.get("type") == "welcome":
                    conn = Connection(sock, reader, message)
                    conn.pending = messages[i + 1 :]
                    return conn
    except AttachError:
        sock.close()
        raise
    except OSError as exc:
        sock.close()
        raise AttachError(f"cannot attach at {path}: {exc.strerror or exc}") from None


class RemoteEngine:
    """An engine look-alike over a `Connection`: snapshots in, commands out.

    `run(control)` returns when the viewer quits (detach: the run goes on) or the run ends.
    """

    def __init__(self, conn: Connection, on_event=None, read_only: bool = False) -> None:
        self.conn = conn
        self.on_event = on_event
        self.read_only = read_only or not conn.steering
        self.snapshot = Snapshot(task_name=str(conn.welcome.get("task", "")), status="starting")
        self.ended: dict[str, Any] | None = None
        self.detached = False
        self._done = threading.Event()

    def run(self, control: Control, max_attempts=None, max_seconds=None) -> RunSummary:
        if self.read_only:
            why = (
                "--read-only"
                if self.conn.welcome.get("wanted_steer") is False
                else ("another viewer steers")
            )
            mode = f"read-only ({why})"
        else:
            mode = "steering"
        cmd = self.conn.welcome.get("command", "train")
        self._event("attached", f"attached to {cmd} (pid {self.conn.pid}) · {mode}")
        reader = threading.Thread(target=self._read, name="altlas-attach-read", daemon=True)
        for message in self.conn.pending:
            self._handle(message)
        reader.start()
        try:
            while not self._done.is_set():
                for command in control.drain():
                    if command.kind == "stop":
                        self.detached = True
                        return self.summary()
                    if self.read_only:
                        self._event("warning", "read-only: this viewer does not steer the run")
                        continue
                    with contextlib.suppress(OSError):
                        self.conn.sock.sendall(encode(
                            {"type": "command", "kind": command.kind, "arg": command.arg}
                        ))  # fmt: skip
                if control.stopping:
                    self.detached = True
                    return self.summary()
                control.wait(0.1)
            return self.summary()
        finally:
            with contextlib.suppress(OSError):
                self.conn.sock.close()

    def _read(self) -> None:
        try:
            # inside the try: a viewer that detaches at once has closed the socket already
            self.conn.sock.settimeout(None)
            while True:
                messages = self.conn.reader.messages()
                if messages is None:
                    break
                for message in messages:
                    self._handle(message)
                if self.ended is not None:
                    break
        except (OSError, ValueError):
            pass
        if self.ended is None and not self.detached:
            self._event("warning", "the run went away without saying goodbye")
            self.ended = {}
        self._done.set()

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "snapshot" and isinstance(message.get("data"), dict):
            self.snapshot = snapshot_from_dict(message["data"])
        elif kind == "event":
            self._event(str(message.get("kind", "")), str(message.get("message", "")),
                        **(message.get("data") or {}))  # fmt: skip
        elif kind == "notice":
            self._event("warning", str(message.get("message", "")))
        elif kind == "end":
            self.ended = message.get("summary") or {}
            self._done.set()

    def _event(self, kind: str, message: str, **data: Any) -> None:
        if self.on_event is not None:
            self.on_event(Event(kind, message, data))

    def summary(self) -> RunSummary:
        s = self.snapshot
        known = set(RunSummary.__dataclass_fields__)
        if self.ended:
            data = {k: v for k, v in self.ended.items() if k in known}
            data.setdefault("task", s.task_name)
            data.setdefault("seed", s.seed)
            data.setdefault("algo", s.algo)
            return RunSummary(**data)
        return RunSummary(task=s.task_name, seed=s.seed, algo=s.algo, attempts=s.attempts,
                          total_attempts=s.total_attempts, best_score=s.best_score,
                          outcome="detached")  # fmt: skip
