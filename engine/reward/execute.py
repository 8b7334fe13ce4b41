"""Running programs on cases: the `RunCases` interface the reward calls, and adapters.

`RunCases(codes, cases) -> results` runs every program on every case (a dict of globals to
bind); `results[i][j]` is program i on case j. The sandbox's `run_cases` does it in one message
per batch, each program compiled once. Until every sandbox has it, `from_run_many` builds the
same thing on `run_many` by prefixing each program with assignment lines binding the case's
values (one run_many call for all program x case pairs). Nothing here executes code itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol


class ExecLike(Protocol):
    """What running one program on one case gives (the sandbox's ExecResult)."""

    status: str
    stdout: str
    error: str


RunMany = Callable[[list[str]], Sequence[ExecLike]]
RunCases = Callable[[list[str], list[dict[str, Any]]], list[list[ExecLike]]]


def binding_prefix(bindings: dict[str, Any]) -> str:
    """Assignment lines binding `bindings` as globals (values are JSON-like: their repr is a
    Python literal, and each run gets fresh lists)."""
    return "".join(f"{name} = {value!r}\n" for name, value in bindings.items())


def from_run_many(run_many: RunMany) -> RunCases:
    """A RunCases built on `run_many`: one call for all program x case pairs."""

    def run_cases(codes: list[str], cases: list[dict[str, Any]]) -> list[list[ExecLike]]:
        if not codes or not cases:
            return [[] for _ in codes]
        prefixes = [binding_prefix(c) for c in cases]
        flat = [p + code for code in codes for p in prefixes]
        results = list(run_many(flat))
        k = len(cases)
        return [results[i * k : (i + 1) * k] for i in range(len(codes))]

    return takes_cases(run_cases)


def cases_runner(runner: Any) -> RunCases:
    """A RunCases from a sandbox-like object (its `run_cases` if it has one, else its
    `run_many`), from a bare `run_many` callable, or a RunCases passed through (marked by a
    `takes_cases` attribute)."""
    run_cases = getattr(runner, "run_cases", None)
    if run_cases is None:  # a bound `sandbox.run_many`: use its sandbox's run_cases if any
        run_cases = getattr(getattr(runner, "__self__", None), "run_cases", None)
    if callable(run_cases):
        return takes_cases(lambda codes, cases: run_cases(codes, cases))
    if getattr(runner, "takes_cases", False):
        return runner  # type: ignore[no-any-return]
    run_many = getattr(runner, "run_many", runner)
    return from_run_many(run_many)


def takes_cases(fn: RunCases) -> RunCases:
    """Mark a plain function as a RunCases (so `cases_runner` does not wrap it)."""
    fn.takes_cases = True  # type: ignore[attr-defined]
    return fn
