"""Thread-safe commands from a reader (TUI, CLI, signal handler) to the running engine.

The engine drains commands between batches, so a command takes effect within one batch.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One command: `kind` is pause|resume|toggle_pause|hint|reinit|switch_task|save|stop|
    keep_training (train on after the solve instead of holding the task)."""

    kind: str
    arg: str | None = None


class Control:
    """Carries commands to the engine; safe to call from any thread."""

    KINDS = frozenset(
        {"pause", "resume", "toggle_pause", "hint", "reinit", "switch_task", "save", "stop",
         "keep_training"}
    )  # fmt: skip

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.stop_reason = "stopped"  # or "interrupted" (signal, lost terminal, closed pipe)

    def send(self, kind: str, arg: str | None = None) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown command {kind!r}")
        if kind == "stop":
            self._stop.set()
        self._queue.put(Command(kind, arg))
        self._wake.set()

    # convenience wrappers
    def pause(self) -> None:
        self.send("pause")

    def resume(self) -> None:
        self.send("resume")

    def toggle_pause(self) -> None:
        self.send("toggle_pause")

    def force_hint(self) -> None:
        self.send("hint")

    def reinit(self) -> None:
        self.send("reinit")

    def switch_task(self, name: str) -> None:
        self.send("switch_task", name)

    def save(self) -> None:
        self.send("save")

    def keep_training(self) -> None:
        self.send("keep_training")

    def stop(self, reason: str = "stopped") -> None:
        """Ask the engine to save and stop; `reason` is what the run history records."""
        if not self._stop.is_set():
            self.stop_reason = reason
        self.send("stop")

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def drain(self) -> list[Command]:
        """All pending commands, oldest first."""
        self._wake.clear()
        out: list[Command] = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def wait(self, timeout: float) -> None:
        """Sleep until a command arrives or `timeout` passes (used while paused)."""
        self._wake.wait(timeout)
