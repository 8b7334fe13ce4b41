"""A test fake of the sandbox: runs trusted test programs in this process (fast, no isolation).

Only for tests: the engine never executes task or program code outside the sandbox.
"""

from __future__ import annotations

import builtins
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.reward import from_run_many


@dataclass
class TrustedResult:
    """Same fields as the sandbox's ExecResult."""

    status: str
    stdout: str
    error: str
    duration: float = 0.0


class _StepLimit(Exception):
    pass


def run_trusted(codes: Sequence[str], max_steps: int = 200_000) -> list[TrustedResult]:
    """Run programs in this process, capturing `print`; a trace function stops runaway loops
    after `max_steps` line events (status "timeout")."""
    results = []
    for code in codes:
        buf = io.StringIO()

        def _print(*args: Any, _buf: io.StringIO = buf, **kwargs: Any) -> None:
            kwargs.pop("file", None)
            kwargs.pop("flush", None)
            builtins.print(*args, file=_buf, **kwargs)

        steps = 0

        def tracer(frame: Any, event: str, arg: Any) -> Any:
            nonlocal steps
            steps += 1
            if steps > max_steps:
                raise _StepLimit
            return tracer

        env: dict[str, Any] = {"__name__": "__main__", "print": _print}
        old = sys.gettrace()
        status, error = "ok", ""
        sys.settrace(tracer)
        try:
            exec(compile(code, "<program>", "exec"), env)  # noqa: S102 - trusted test data
        except _StepLimit:
            status, error = "timeout", "Timeout: step limit"
        except BaseException as exc:  # noqa: BLE001 - any failure of the program is data
            status, error = "error", f"{type(exc).__name__}: {exc}"
        finally:
            sys.settrace(old)
        results.append(TrustedResult(status, buf.getvalue(), error))
    return results


class CountingRunner:
    """run_many over `run_trusted` that counts calls and programs (for batching tests)."""

    def __init__(self) -> None:
        self.calls = 0
        self.programs = 0

    def run_many(self, codes: list[str], timeout: float | None = None) -> list[TrustedResult]:
        self.calls += 1
        self.programs += len(codes)
        return run_trusted(codes, max_steps=20_000)


trusted_cases = from_run_many(lambda codes: run_trusted(codes, max_steps=20_000))
