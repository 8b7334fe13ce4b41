"""What a sandbox run returns: `ExecResult` per program and case, `SandboxError`, `STATUSES`."""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("ok", "error", "timeout", "killed", "rejected")


@dataclass(frozen=True)
class ExecResult:
    """Outcome of one program (on one case)."""

    status: str  # "ok" | "error" | "timeout" | "killed" | "rejected"
    stdout: str
    error: str  # "" or short "TypeName: message"
    duration: float  # seconds
    # loop-body executions per instrumented loop (engine/reward/loops.py), when the program
    # left checked counters behind; None otherwise (no loops instrumented, or tampered with)
    iterations: tuple[int, ...] | None = None


class SandboxError(RuntimeError):
    """The sandbox machinery itself is unusable (workers keep failing to start). The message is
    one line naming the reason; the engine should checkpoint and stop the run with it."""
