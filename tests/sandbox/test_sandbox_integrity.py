"""The fast worker's integrity check notices each kind of tampering (checked in-process on the
check itself: fast-tier programs have no names that could reach this state)."""

from __future__ import annotations

import builtins
import io
import os
import signal
import sys
import threading
import types
from collections.abc import Callable, Iterator

import pytest

from engine.sandbox.worker.fast import fast_builtins as _fast_builtins
from engine.sandbox.worker.integrity import Integrity


@pytest.fixture
def integrity() -> Iterator[Callable[[], Integrity]]:
    """A factory: the baseline is taken inside the test body (pytest itself changes the
    environment between setup and call), with stdout and stderr the same object as in a worker."""
    old_handler = signal.getsignal(signal.SIGALRM)
    old_stderr = sys.stderr

    def handler(signum: int, frame: object) -> None:
        pass

    def make() -> Integrity:
        sys.stderr = sys.stdout
        return Integrity(_fast_builtins(), sys.stdout, handler)

    signal.signal(signal.SIGALRM, handler)
    try:
        yield make
    finally:
        signal.signal(signal.SIGALRM, old_handler)
        sys.stderr = old_stderr


def _plant_builtin() -> Callable[[], None]:
    builtins.ALTLAS_PLANT = True  # type: ignore[attr-defined]
    return lambda: delattr(builtins, "ALTLAS_PLANT")


def _swap_module() -> Callable[[], None]:
    real = sys.modules["json"]
    sys.modules["json"] = types.ModuleType("json")
    return lambda: sys.modules.__setitem__("json", real)


def _trace() -> Callable[[], None]:
    old = sys.gettrace()
    sys.settrace(lambda *a: None)
    return lambda: sys.settrace(old)


def _thread() -> Callable[[], None]:
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, daemon=True)
    t.start()
    return lambda: (stop.set(), t.join())


def _env() -> Callable[[], None]:
    os.environ["ALTLAS_PLANT"] = "1"
    return lambda: os.environ.pop("ALTLAS_PLANT")


def _stdout() -> Callable[[], None]:
    old = sys.stdout
    sys.stdout = io.StringIO()
    return lambda: setattr(sys, "stdout", old)


def _alarm() -> Callable[[], None]:
    old = signal.getsignal(signal.SIGALRM)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    return lambda: signal.signal(signal.SIGALRM, old)


def _other_signal() -> Callable[[], None]:
    old = signal.getsignal(signal.SIGUSR1)
    signal.signal(signal.SIGUSR1, lambda *a: None)
    return lambda: signal.signal(signal.SIGUSR1, old)


@pytest.mark.parametrize(
    "tamper,reason,full",
    [
        (_plant_builtin, "builtins", False),
        (_swap_module, "sys.modules", False),
        (_trace, "trace hook", False),
        (_thread, "threads", False),
        (_env, "environment", False),
        (_stdout, "stdout", False),
        (_alarm, "signal handlers", False),
        (_other_signal, "signal handlers", True),
    ],
)
def test_each_tampering_is_detected(
    integrity: Callable[[], Integrity],
    tamper: Callable[[], Callable[[], None]],
    reason: str,
    full: bool,
) -> None:
    check = integrity().check
    assert check(True) == ""
    undo = tamper()
    try:
        assert check(full) == reason
    finally:
        undo()
    assert check(True) == ""


def test_fast_builtins_exclude_every_escape_hatch() -> None:
    fb = _fast_builtins()
    for name in ("eval", "exec", "open", "getattr", "setattr", "globals", "vars", "compile",
                 "__import__", "type", "object", "input", "breakpoint", "memoryview", "dir",
                 "__build_class__", "super", "locals", "delattr", "help"):  # fmt: skip
        assert name not in fb
    assert {"print", "range", "len", "sum", "ValueError", "ZeroDivisionError"} <= set(fb)
