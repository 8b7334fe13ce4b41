"""Messages that cross from the engine thread (or logging) into the Textual app.

All of them are posted with `App.post_message`, which is thread-safe and never blocks the sender.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from engine.events import Event


@dataclass
class EngineEvent(Message):
    """A rare engine event (task switched, checkpoint saved, hint, warning, error, ...)."""

    event: Event


@dataclass
class LogLine(Message):
    """One formatted record from the "altlas" logger."""

    levelno: int
    text: str


@dataclass
class CommandSent(Message):
    """The user sent a command to the engine; screens may show it as pending at once."""

    kind: str
    arg: str | None = None
