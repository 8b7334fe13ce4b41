"""The public face of the sandbox: `Sandbox`, `ExecResult`, `SandboxError`, `STATUSES`."""

from __future__ import annotations

from typing import Any

from engine.config import SandboxConfig
from engine.errors import InputError

from .result import STATUSES, ExecResult, SandboxError

__all__ = ["STATUSES", "ExecResult", "Sandbox", "SandboxError", "check_config"]


def check_config(cfg: SandboxConfig) -> None:
    """Raise InputError for a SandboxConfig field outside its allowed range."""
    where = "sandbox config"
    if cfg.backend not in ("process", "inprocess"):
        raise InputError("expected process or inprocess", where, "sandbox.backend")
    if cfg.workers < 1 or cfg.workers > 64:
        raise InputError("expected 1..64", where, "sandbox.workers")
    if not cfg.timeout > 0:
        raise InputError("must be positive", where, "sandbox.timeout")
    if cfg.max_output < 1:
        raise InputError("must be positive", where, "sandbox.max_output")
    if cfg.memory_mb < 64:
        raise InputError("expected at least 64", where, "sandbox.memory_mb")
    if cfg.recycle_every < 1:
        raise InputError("must be positive", where, "sandbox.recycle_every")
    if cfg.max_source < 1:
        raise InputError("must be positive", where, "sandbox.max_source")


class Sandbox:
    """Executes generated programs in isolated worker processes (see docs/sandbox.md).

    with Sandbox(config.sandbox) as sb:
        results = sb.run_many(codes)              # list[ExecResult]
        table = sb.run_cases(codes, cases)        # table[i][j]: program i on case j
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config if config is not None else SandboxConfig()
        check_config(self.config)
        self._backend: Any = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the worker processes (done by `with` or by the first run). SandboxError if the
        sandbox cannot work on this machine at all."""
        if self._backend is None:
            if self.config.backend == "inprocess":
                from .inprocess import InProcessBackend

                self._backend = InProcessBackend(self.config)
            else:
                from .backend import ProcessBackend

                self._backend = ProcessBackend(self.config)

    def run_cases(
        self, codes: list[str], cases: list[dict[str, Any]], timeout: float | None = None
    ) -> list[list[ExecResult]]:
        """Run every program on every case: result[i][j] is program i on case j.

        Each program is compiled once, then run once per case with that case's dict as fresh
        globals (values JSON-like; every run gets its own copy). `timeout` is per case. After a
        timeout or kill on one case, the program's remaining cases get the same status without
        running. TypeError/ValueError for a malformed case."""
        if timeout is None:
            timeout = self.config.timeout
        if not timeout > 0:
            raise ValueError("timeout must be positive")
        from .protocol import check_cases

        blobs = check_cases(cases)
        if not codes:
            return []
        self.start()
        return self._backend.run_cases(list(codes), blobs, float(timeout))

    def run_many(self, codes: list[str], timeout: float | None = None) -> list[ExecResult]:
        """Run each program once (no case values); results in the same order. `timeout` is per
        program, in seconds."""
        return [r[0] for r in self.run_cases(codes, [{}], timeout)]

    def run(self, code: str, timeout: float | None = None) -> ExecResult:
        """Run one program."""
        return self.run_many([code], timeout)[0]

    def describe(self) -> dict[str, Any]:
        """Isolation layers actually in force (starts the workers if needed)."""
        self.start()
        return self._backend.describe()

    def processes(self) -> dict[str, Any]:
        """Host pids of the sandbox's own processes, its uid block and chroot (tests, diagnostics).

        `fast`: fast pool processes (`fast_ready`: those past their lock-down); `zygote`: the
        process the engine started for the strict tier (the `unshare` wrapper when a pid
        namespace is used); `uids`: [lo, hi) range.
        """
        self.start()
        return self._backend.processes()

    def close(self) -> None:
        """Stop every worker process; the Sandbox can be started again afterwards."""
        if self._backend is not None:
            backend, self._backend = self._backend, None
            backend.close()
