"""The attach wire format: one JSON object per line, both ways.

viewer → run:  {"type": "hello", "steer": bool}, then {"type": "command", "kind": K, "arg": A}
run → viewer:  {"type": "welcome", "steer": bool, "pid": int, "task": str, "command": str},
               {"type": "snapshot", "data": {...}}, {"type": "event", "kind", "message", "data"},
               {"type": "notice", "message": str}, {"type": "end", "summary": {...}}
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

SOCKET_NAME = "altlas-tui.sock"
MAX_LINE = 8 * 1024 * 1024  # a snapshot is ~10-40 KB; anything this big is not ours
REMOTE_COMMANDS = frozenset(
    {"pause", "resume", "toggle_pause", "hint", "reinit", "switch_task", "save", "keep_training"}
)  # not "stop": a viewer detaches, it does not end the run


def socket_path(state_dir: Path | None = None) -> Path:
    """Where the live run listens: the state dir (next to the single-writer lock)."""
    if state_dir is None:
        from engine.store import paths

        state_dir = paths().state
    return Path(state_dir) / SOCKET_NAME


def encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, separators=(",", ":"), default=str) + "\n").encode()


class LineReader:
    """Splits a socket's bytes into JSON messages (None at end of stream)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def messages(self) -> list[dict[str, Any]] | None:
        """Whatever complete messages one recv() brings; None when the peer closed."""
        chunk = self.sock.recv(65536)
        if not chunk:
            return None
        self.buffer += chunk
        if len(self.buffer) > MAX_LINE:
            raise ValueError("message too long")
        *lines, self.buffer = self.buffer.split(b"\n")
        out = []
        for line in lines:
            if line.strip():
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                if isinstance(item, dict):
                    out.append(item)
        return out
