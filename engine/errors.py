"""Errors that mean bad input from a person: reported in one line, exit code 2."""

from __future__ import annotations


class InputError(Exception):
    """Bad input (task, config, theme, flag, program file). Message names the file and field."""

    def __init__(self, message: str, path: str | None = None, field: str | None = None) -> None:
        self.path = path
        self.field = field
        parts = [p for p in (path, field) if p]
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
