"""Serve a running engine's snapshots and take commands from attached viewers.

Off the hot path by design: the engine only ever has its `on_event` hook append to a bounded
deque; the server's threads read `engine.snapshot` (one attribute read of an immutable object),
encode it at most `RATE` times a second, and write to each viewer with a timeout. A viewer that
stops reading or vanishes is dropped; the engine never waits for anyone.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import select
import socket
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from altlas_tui.attach.protocol import REMOTE_COMMANDS, LineReader, encode, socket_path
from engine.snapshot import snapshot_to_dict

log = logging.getLogger("altlas.attach")

RATE = 4  # snapshots a second per viewer at most
SEND_TIMEOUT = 5.0  # a viewer that cannot take a message this long is dropped
EVENTS_KEPT = 200


class SnapshotServer:
    """Listens on a Unix socket; one thread accepts, one thread per viewer talks to it."""

    def __init__(self, path: Path, engine: Any, control: Any, command: str = "train") -> None:
        self.path = Path(path)
        self.engine = engine
        self.control = control
        self.command = command
        self._events: deque[tuple[int, dict[str, Any]]] = deque(maxlen=EVENTS_KEPT)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._steerer: int | None = None
        self._ids = itertools.count(1)
        self._closing = threading.Event()
        self._sock: socket.socket | None = None
        self._encoded: tuple[Any, bytes] | None = None
        self._end: dict[str, Any] | None = None
        self.viewers = 0

    @classmethod
    def for_store(cls, store: Any, engine: Any, control: Any, command: str = "train"):
        """A server in the store's state dir, hooked into the engine's events."""
        state = getattr(getattr(store, "paths", None), "state", None)
        server = cls(socket_path(state), engine, control, command)
        previous = engine.on_event

        def on_event(event) -> None:
            server.publish_event(event)
            if previous is not None:
                previous(event)

        engine.on_event = on_event
        return server

    # -- engine side (cheap, never blocks) ------------------------------------------------
    def publish_event(self, event: Any) -> None:
        data = {k: v for k, v in (event.data or {}).items() if k != "traceback"}
        self._events.append((next(self._seq), {
            "type": "event", "kind": event.kind, "message": event.message, "data": data,
        }))  # fmt: skip

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        if len(os.fsencode(self.path)) > 100:  # AF_UNIX paths are limited to ~104 bytes
            raise OSError(f"socket path too long for AF_UNIX: {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # we hold the store's writer lock: any old socket is stale
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is born owner-only (0600), no window for others
        try:
            sock.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        sock.listen(8)
        sock.settimeout(0.5)
        self._sock = sock
        threading.Thread(target=self._accept_loop, name="altlas-attach", daemon=True).start()
        log.info("attach: serving on %s", self.path)

    def close(self, summary: Any = None) -> None:
        """Tell viewers the run ended (with its summary), stop serving, remove the socket."""
        if summary is not None:
            try:
                self._end = {"type": "end", "summary": summary.to_json() | {
                    "outcome": getattr(summary, "outcome", "")}}  # fmt: skip
            except Exception:  # noqa: BLE001
                self._end = {"type": "end", "summary": {}}
        else:
            self._end = {"type": "end", "summary": {}}
        time.sleep(0.3 if self.viewers else 0)  # let viewer threads send the end message
        self._closing.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        with contextlib.suppress(OSError):
            self.path.unlink()

    # -- threads --------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._closing.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(
                target=self._serve, args=(conn,), name="altlas-attach-viewer", daemon=True
            ).start()

    def _snapshot_bytes(self) -> bytes:
        snap = self.engine.snapshot
        cached = self._encoded
        if cached is not None and cached[0] is snap:
            return cached[1]
        data = encode({"type": "snapshot", "data": snapshot_to_dict(snap)})
        self._encoded = (snap, data)
        return data

    def _serve(self, conn: socket.socket) -> None:
        viewer = next(self._ids)
        self.viewers += 1
        steering = False
        try:
            conn.settimeout(SEND_TIMEOUT)
            reader = LineReader(conn)
            hello = self._read_hello(conn, reader)
            if hello is None:
                return
            with self._lock:
                if hello.get("steer") and self._steerer is None:
                    self._steerer, steering = viewer, True
            conn.sendall(encode({
                "type": "welcome", "steer": steering, "pid": os.getpid(),
                "task": getattr(self.engine.snapshot, "task_name", ""), "command": self.command,
                "wanted_steer": bool(hello.get("steer")),
            }))  # fmt: skip
            log.info(
                "attach: viewer %d joined (%s)", viewer, "steering" if steering else "watching"
            )
            last_snap = None
            last_event = self._events[-1][0] if self._events else 0
            next_send = 0.0
            while not self._closing.is_set():
                if self._end is not None:
                    conn.sendall(self._snapshot_bytes())
                    conn.sendall(encode(self._end))
                    return
                now = time.monotonic()
                if now >= next_send:
                    next_send = now + 1 / RATE
                    snap = self.engine.snapshot
                    if snap is not last_snap:
                        last_snap = snap
                        conn.sendall(self._snapshot_bytes())
                    for seq, message in list(self._events):
                        if seq > last_event:
                            conn.sendall(encode(message))
                            last_event = seq
                ready, _, _ = select.select([conn], [], [], 0.05)
                if ready:
                    messages = reader.messages()
                    if messages is None:
                        return
                    for message in messages:
                        self._command(conn, message, steering)
        except (OSError, ValueError, RuntimeError) as exc:
            log.info("attach: viewer %d dropped (%s)", viewer, exc.__class__.__name__)
        finally:
            if steering:
                with self._lock:
                    self._steerer = None
            self.viewers -= 1
            with contextlib.suppress(OSError):
                conn.close()
            log.info("attach: viewer %d left", viewer)

    def _read_hello(self, conn: socket.socket, reader: LineReader) -> dict[str, Any] | None:
        deadline = time.monotonic() + SEND_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([conn], [], [], 0.1)
            if ready:
                messages = reader.messages()
                if messages is None:
                    return None
                for message in messages:
                    if message.get("type") == "hello":
                        return message
        return None

    def _command(self, conn: socket.socket, message: dict[str, Any], steering: bool) -> None:
        if message.get("type") != "command":
            return
        kind, arg = message.get("kind"), message.get("arg")
        if kind not in REMOTE_COMMANDS or not (arg is None or isinstance(arg, str)):
            conn.sendall(encode({"type": "notice", "message": f"unknown command {kind!r}"}))
            return
        if not steering:
            conn.sendall(encode({
                "type": "notice",
                "message": "read-only: another viewer steers this run (or --read-only)",
            }))  # fmt: skip
            return
        log.info("attach: command %s %s", kind, arg or "")
        self.control.send(kind, arg)
