"""Bounded memory of scored programs: what the trainer remembers about each program text so a
duplicate is never run again, in two least-recently-used tiers.

* `records`: a compact record per program (score, success, status, error type, case counts),
  keyed by a 64-bit hash of the text (not the text itself: a program of 60 tokens would cost
  more than its record). Up to `size` entries, ~0.3 KB each; the least recently used goes first.
  A hash collision (two texts, one hash) needs ~4e9 programs for even odds at this size.
* `details`: the full `Outcome` (breakdown, stdout, reasons) of the most recent `detail` programs,
  for the display; a duplicate that has dropped out of it is scored again when it is shown.

No tier is ever cleared wholesale, so a long run keeps its duplicates cheap at bounded memory.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


@dataclass(slots=True)
class Outcome:
    """What the trainer knows about one program text (the full record, for the display)."""

    score: float
    success: bool
    status: str
    error_type: str
    components: tuple[tuple[str, float], ...] = ()
    stdout: str = ""
    reasons: tuple[str, ...] = ()
    text_fp: str = ""  # filled for the displayed program only
    shape_fp: str = ""  # filled for the displayed program only
    cases: tuple[int, int, int, int] = (0, 0, 0, 0)  # visible passed/total, hidden passed/total
    detailed: bool = True  # False: rebuilt from a compact record (no breakdown, stdout, reasons)


# score, success, status, error type, case counts
Record = tuple[float, bool, str, str, tuple[int, int, int, int]]


class LRU(Generic[K, V]):
    """A dict with at most `size` entries; the least recently used is dropped first."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._d: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._d.get(key)
        if value is not None:
            self._d.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        d = self._d
        d[key] = value
        d.move_to_end(key)
        while len(d) > self.size:
            d.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def __len__(self) -> int:
        return len(self._d)


class ProgramCache:
    """Outcomes by program text, bounded (see the module docstring)."""

    def __init__(self, size: int = 200_000, detail: int = 2_000) -> None:
        self.records: LRU[int, Record] = LRU(size)
        self.details: LRU[int, Outcome] = LRU(max(1, min(detail, size)))

    @staticmethod
    def key(code: str) -> int:
        return hash(code)  # str hashes are cached on the object and 64-bit

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.key(code) in self.records

    def __len__(self) -> int:
        return len(self.records)

    def put(self, code: str, o: Outcome) -> None:
        k = self.key(code)
        self.records.put(k, (o.score, o.success, o.status, o.error_type, o.cases))
        if o.detailed:
            self.details.put(k, o)

    def get(self, code: str) -> Outcome | None:
        """The full outcome if still held, else one rebuilt from the compact record (its
        `detailed` is False), else None."""
        k = self.key(code)
        rec = self.records.get(k)
        if rec is None:
            return None
        full = self.details.get(k)
        if full is not None:
            return full
        score, success, status, error_type, cases = rec
        return Outcome(score, success, status, error_type, cases=cases, detailed=False)

    def has_detail(self, code: str) -> bool:
        return self.key(code) in self.details
