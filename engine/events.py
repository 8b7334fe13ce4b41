"""Rare engine events (task switched, checkpoint saved, warning, error, ...) for readers that want them.

The engine calls `on_event(Event)` from its own thread; the TUI forwards it with `post_message`
(thread-safe). Events are rare: never once per program or per token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EVENT_KINDS = (
    "started",  # engine started a task
    "task_switched",  # data: {"task": name}
    "checkpoint_saved",  # data: {"task": name, "path": str}
    "solved",  # data: {"code": str, "attempts": int}
    "hint",  # data: {"text": str, "forced": bool}
    "boost",  # exploration boost started/ended
    "reinit",  # weights reinitialised
    "warning",  # health or other warning
    "error",  # engine error; data: {"traceback": str}
    "stopped",
)


@dataclass(frozen=True)
class Event:
    """One notable thing that happened in the engine."""

    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)
