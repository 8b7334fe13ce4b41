"""What every command shares: the one-line-error parser, flag types, config, task and store."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from engine.errors import InputError

DEFAULT_TASK = "add_two_numbers"
# 128 + the signal number, as a shell reports a process killed by it
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}
BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE: stdout was closed (`train | head -1`)


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(2)


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (checked before any work starts)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def add_config_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", metavar="FILE", help="config TOML (default: the config dir's config.toml)"
    )
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one config key, e.g. train.batch_size=64 (repeatable)")  # fmt: skip


def load_config(args: argparse.Namespace, overrides: dict[str, dict[str, Any]] | None = None):
    """The config file (or --config), then --set, then the command's own flags."""
    from engine import config as cfgmod
    from engine.store import paths

    path = getattr(args, "config", None) or paths().config_file
    if getattr(args, "config", None) and not Path(args.config).exists():
        raise InputError("file not found", args.config)
    config = cfgmod.load(path)
    flat: dict[str, dict[str, Any]] = {}
    for text in getattr(args, "overrides", []) or []:
        section, key, value = cfgmod.parse_assignment(text)
        flat.setdefault(section, {})[key] = value
    if flat:
        cfgmod.apply(config, flat, "--set", from_text=True)
    if overrides:
        cfgmod.apply(config, overrides, "command line")
    validate = getattr(cfgmod, "validate", None)  # ranges, when the config module offers them
    if callable(validate):
        validate(config)
    return config


def task_arg(args: argparse.Namespace, required: bool = True) -> str | None:
    if getattr(args, "task_file", None):
        return args.task_file
    if getattr(args, "task", None):
        return args.task
    if required:
        raise InputError("--task NAME or --task-file PATH is required", "command line", "--task")
    return None


def open_store(read_only: bool = False, command: str = "altlas-tui"):
    from engine.store import LockHeld, Store

    try:
        return Store(read_only=read_only) if read_only else Store(command=command)
    except TypeError:  # a Store without the command label
        return Store(read_only=read_only)
    except LockHeld as exc:
        raise InputError(
            f"{exc} (another altlas-tui is training here: `altlas-tui attach` watches it)"
        ) from None


class StopSignals:
    """Ctrl+C, SIGTERM and SIGHUP (SSH dropped) stop the engine cleanly: it saves once; the
    exit code then says which signal it was (130, 143, 129). A second Ctrl+C gives up waiting."""

    def __init__(self, control) -> None:
        self.control = control
        self.received: int | None = None
        self._previous: dict[int, Any] = {}
        for sig in SIGNAL_EXIT:
            self._previous[sig] = signal.signal(sig, self._handler)

    def _handler(self, signum, frame) -> None:  # noqa: ARG002
        if self.control.stopping and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.received = self.received or signum
        self.control.stop("interrupted")

    @property
    def exit_code(self) -> int | None:
        return SIGNAL_EXIT.get(self.received) if self.received else None

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
