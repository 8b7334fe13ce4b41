"""Attach viewers to a running engine over a Unix socket in the state dir (owner only, no TCP).

`SnapshotServer` runs beside a headless `train` (or the TUI) and never blocks it; `connect` and
`RemoteEngine` let `altlas-tui attach` show the same screens on it.
"""

from altlas_tui.attach.client import AttachError, RemoteEngine, connect, live_run
from altlas_tui.attach.protocol import socket_path
from altlas_tui.attach.server import SnapshotServer

__all__ = ["AttachError", "RemoteEngine", "SnapshotServer", "connect", "live_run", "socket_path"]
