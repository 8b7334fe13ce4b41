"""Bounded memory of scored programs: what the trainer remembers about each program text so a
duplicate is never run again, in two tiers.

* `records`: a compact record per program (score, success, status, error type, case counts),
  keyed by a 64-bit hash of the text (not the text itself: a program of 60 tokens would cost
  more than its record), packed into one int (the error type, a shared string, beside it when
  there is one): ~136 B each with the dict entry, against ~320 B as an ordered dict of tuples
  (docs/benchmarks.md, "Memory"). Two generations of plain dicts make an approximate LRU: a
  record used within the last `size / 2` insertions is always kept, none lives past `size`
  insertions unused, and there are never more than `size`. A hash collision (two texts, one
  hash) needs ~4e9 programs for even odds.
* `details`: the full `Outcome` (breakdown, stdout, reasons) of the most recent `detail` programs,
  for the display; a duplicate that has dropped out of it is scored again when it is shown.

No tier is ever cleared wholesale, so a long run keeps its duplicates cheap at bounded memory.
"""

from __future__ import annotations

import struct
import sys
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


# packed (score, success, status, case counts), or that with the error type beside it
Record = int | tuple[int, str]
STATUSES = ("ok", "error", "timeout", "killed", "rejected")  # engine.sandbox.result.STATUSES
_CASE_BITS = 24
_CASE_MAX = (1 << _CASE_BITS) - 1
_SCORE_SHIFT = 4 + 4 * _CASE_BITS


def pack(o: Outcome) -> Record:
    """The compact record of an outcome (see `unpack`): one int (the score's IEEE bits, the
    flags and the case counts), with the error type in a tuple only when there is one."""
    status = STATUSES.index(o.status) if o.status in STATUSES else len(STATUSES)
    bits = int(o.success) | status << 1
    for i, n in enumerate(o.cases):
        bits |= min(max(int(n), 0), _CASE_MAX) << (4 + i * _CASE_BITS)
    bits |= struct.unpack("<Q", struct.pack("<d", float(o.score)))[0] << _SCORE_SHIFT
    # the status string is kept in the error slot when it is not a known one
    extra = o.error_type if status < len(STATUSES) else f"{o.status}\0{o.error_type}"
    return (bits, sys.intern(extra)) if extra else bits


def unpack(rec: Record) -> Outcome:
    """An outcome without breakdown, stdout or reasons (`detailed` False)."""
    bits, extra = rec if isinstance(rec, tuple) else (rec, "")
    score = struct.unpack("<d", struct.pack("<Q", bits >> _SCORE_SHIFT))[0]
    idx = bits >> 1 & 7
    status, error_type = (STATUSES[idx], extra) if idx < len(STATUSES) else extra.split("\0", 1)
    c = tuple(bits >> (4 + i * _CASE_BITS) & _CASE_MAX for i in range(4))
    return Outcome(score, bool(bits & 1), status, error_type, cases=c, detailed=False)  # type: ignore[arg-type]


class Generations(Generic[K, V]):
    """An approximate LRU of at most `size` entries in two plain dicts (cheaper per entry than
    an OrderedDict): new and used entries go to the young dict; when it holds `size / 2`, it
    becomes the old one and the previous old one is dropped."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._half = max(1, size // 2)
        self._young: dict[K, V] = {}
        self._old: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        value = self._young.get(key)
        if value is None:
            value = self._old.pop(key, None)
            if value is not None:
                self._add(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        self._old.pop(key, None)
        self._add(key, value)

    def _add(self, key: K, value: V) -> None:
        self._young[key] = value
        if len(self._young) >= self._half:
            self._old, self._young = self._young, {}

    def __contains__(self, key: object) -> bool:
        return key in self._young or key in self._old

    def __len__(self) -> int:
        return len(self._young) + len(self._old)


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
        self.records: Generations[int, Record] = Generations(size)
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
        self.records.put(k, pack(o))
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
        return unpack(rec)

    def has_detail(self, code: str) -> bool:
        return self.key(code) in self.details
