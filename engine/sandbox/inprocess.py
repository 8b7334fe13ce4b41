"""The in-process backend: tests of other modules only. No isolation at all."""

from __future__ import annotations

import builtins
import contextlib
import io
import marshal
import sys
import time
from typing import Any

from engine.config import SandboxConfig

from .protocol import COUNTER_NAME, clean_text, counters
from .result import ExecResult


class _Deadline(BaseException):
    """Raised by the tracer at the deadline (BaseException: `except Exception` cannot eat it)."""


class InProcessBackend:
    """Same statuses and run_cases semantics as the process backend, in this process."""

    def __init__(self, cfg: SandboxConfig) -> None:
        self.cfg = cfg

    def run_cases(
        self, codes: list[Any], cases: list[bytes], timeout: float
    ) -> list[list[ExecResult]]:
        out: list[list[ExecResult]] = []
        n = len(cases)
        for code in codes:
            if not isinstance(code, str) or len(code) > self.cfg.max_source:
                out.append([ExecResult("rejected", "", "SourceTooLarge", 0.0)] * n)
                continue
            t0 = time.perf_counter()
            try:
                co = compile(code, "<program>", "exec", dont_inherit=True)
            except BaseException as e:  # noqa: BLE001 - any compile error is a result
                err = f"{type(e).__name__}: {e}"[:300]
                out.append([ExecResult("error", "", err, time.perf_counter() - t0)] * n)
                continue
            row: list[ExecResult] = []
            for j, case in enumerate(cases):
                r = self._run(co, case, timeout)
                row.append(r)
                if r.status in ("timeout", "killed"):
                    row += [ExecResult(r.status, "", r.error, 0.0)] * (n - j - 1)
                    break
            out.append(row)
        return out

    def _run(self, co: Any, case: bytes, timeout: float) -> ExecResult:
        buf = io.StringIO()
        t0 = time.perf_counter()
        end = t0 + timeout
        fired = [False]

        def tracer(frame: Any, event: str, arg: Any) -> Any:
            if time.perf_counter() > end:
                fired[0] = True
                raise _Deadline
            return tracer

        g = marshal.loads(case)  # a fresh copy per run
        g["__builtins__"] = builtins
        g["__name__"] = "__main__"
        status, err = "ok", ""
        old = sys.gettrace()
        try:
            with contextlib.redirect_stdout(buf):
                sys.settrace(tracer)
                try:
                    exec(co, g)
                finally:
                    sys.settrace(old)
        except _Deadline:
            pass
        except SystemExit as e:
            status, err = "killed", f"SystemExit: {e}"
        except BaseException as e:  # noqa: BLE001 - any program error is a result
            status, err = "error", f"{type(e).__name__}: {e}"[:300]
        it = counters(g.get(COUNTER_NAME))
        if fired[0]:
            status, err = "timeout", f"TimeoutError: exceeded {timeout:g}s"
        text = buf.getvalue()
        if len(text) > self.cfg.max_output:
            text = text[: self.cfg.max_output]
            if status == "ok":
                status, err = "error", "OutputLimitExceeded"
        dur = time.perf_counter() - t0
        return ExecResult(status, clean_text(text), clean_text(err), dur, it)

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "inprocess",
            "level": "none",
            "summary": "none: in-process exec, tests only",
            "fast_tier": {},
            "strict_tier": {},
            "uid_drop": False,
            "chroot": False,
            "netns": False,
            "pidns": False,
            "seccomp": False,
            "env_cleared": False,
            "compile_in_sandbox": False,
            "timeout": self.cfg.timeout,
        }

    def processes(self) -> dict[str, Any]:
        return {"fast": [], "fast_ready": [], "zygote": None, "uids": None, "root_dir": None}

    def close(self) -> None:
        pass
