"""One run_cases call in flight (`_Batch`), the chunks sent to fast workers (`_Job`), and the
deadline margins both tiers use."""

from __future__ import annotations

from .result import ExecResult

STRICT_SLACK = 0.05  # fork and lock-down time allowed on top of a strict program's timeout
HARD_MARGIN = 0.05  # a fast program is SIGKILLed at timeout + this (its soft timer fired long ago)


class _Job:
    """A chunk of a batch sent to one fast worker."""

    __slots__ = ("seq", "chunk", "limit", "sent")

    def __init__(self, seq: int, chunk: list[int], sent: float) -> None:
        self.seq = seq
        self.chunk = chunk  # global program indices, in the order sent
        self.limit = len(chunk)  # programs from here on were handed to another worker
        self.sent = sent  # last time this job was sent or heard from


class _Batch:
    """One run_cases call: programs, marshalled cases, and per-program results so far."""

    def __init__(self, codes: list[str], cases: list[bytes], timeout: float, cap: int) -> None:
        self.codes, self.cases, self.timeout, self.cap = codes, cases, timeout, cap
        n = len(codes)
        self.results: list[list[ExecResult] | None] = [None] * n
        self.done = bytearray(n)
        # A program killed during case j > 0 is re-run on cases < j only; cases >= j are `tail`.
        self.ncases = [len(cases)] * n
        self.tail: dict[int, list[ExecResult]] = {}

    def finish(self, i: int, got: list[ExecResult]) -> None:
        self.done[i] = 1
        self.results[i] = got + self.tail.pop(i, [])

    def fail(self, i: int, j: int, status: str, error: str, duration: float) -> None:
        """Program i was killed during its case j: cases j.. get `status` without running."""
        n = self.ncases[i]
        first = ExecResult(status, "", error, duration)
        rest = [ExecResult(status, "", error, 0.0)] * max(0, n - j - 1)
        if j <= 0 or j >= n:
            self.finish(i, ([first] + rest)[:n] if n else [])
        else:
            self.tail[i] = [first, *rest, *self.tail.get(i, [])]
            self.ncases[i] = j
