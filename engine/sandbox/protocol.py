"""Engine side of the wire protocol: frames out (marshal), frames in (JSON, never trusted).

Every value a sandbox process sends is type-checked before it becomes an `ExecResult`, and text
is normalised to what UTF-8 can carry (lone surrogates become '?', as the strict tier's encoder
does), so both tiers return the same text and no consumer (Rich, JSON, SQLite) chokes on it.
"""

from __future__ import annotations

import json
import marshal
from typing import Any

HDR = 4
MAX_MESSAGE = 256 * 1024 * 1024
WORKER_STATUSES = frozenset(("ok", "error", "timeout", "killed"))
MALFORMED = "SandboxViolation: malformed result from a worker"
# Loop counters a result may carry (its optional fifth element; worker/wire.py has the same
# constants): at most COUNTERS_MAX ints in [0, COUNT_MAX]. Anything else is dropped, so a
# program that tampers with its counters gets "unknown" counts, never a malformed result.
COUNTER_NAME = "altlasi"
COUNTERS_MAX = 64
COUNT_MAX = 1 << 40


def pack(obj: Any) -> bytes:
    """One frame for a sandbox process."""
    data = marshal.dumps(obj)
    return len(data).to_bytes(HDR, "little") + data


def clean_text(s: str) -> str:
    """`s` as UTF-8 can carry it: lone surrogates replaced by '?' (fast path for ASCII)."""
    if s.isascii():
        return s
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "replace").decode("utf-8")


def valid(status: Any, out: Any, err: Any, dur: Any) -> bool:
    """A result as a sandbox process sent it: only trusted once its types are checked."""
    return (
        status in WORKER_STATUSES
        and type(out) is str
        and type(err) is str
        and type(dur) in (float, int)
    )


def counters(raw: Any) -> tuple[int, ...] | None:
    """Checked loop counters of one result (a list of bounded non-negative ints), else None."""
    if type(raw) is not list or len(raw) > COUNTERS_MAX:
        return None
    for v in raw:
        if type(v) is not int or not 0 <= v <= COUNT_MAX:
            return None
    return tuple(raw)


def case_results(raw: Any, n: int, make: Any = tuple) -> list[Any] | None:
    """A program's per-case results from a worker: n checked `make(status, stdout, error,
    duration)` values (`make(..., counters)` when a result carries loop counters), or None if
    malformed. (Hot path: one call per program.)"""
    if type(raw) is not list or len(raw) != n:
        return None
    out = []
    statuses = WORKER_STATUSES
    for r in raw:
        if type(r) is not list:
            return None
        if len(r) == 4:
            s, o, e, d = r
            it = None
        elif len(r) == 5:
            s, o, e, d, it = r
            it = counters(it)
        else:
            return None
        if s not in statuses or type(o) is not str or type(e) is not str:
            return None
        if type(d) is not float:
            if type(d) is not int:
                return None
            d = float(d)
        if not o.isascii():
            o = clean_text(o)
        if not e.isascii():
            e = clean_text(e)
        out.append(make(s, o, e, d) if it is None else make(s, o, e, d, it))
    return out


def parse_frames(buf: bytearray) -> list[Any] | None:
    """Complete frames at the start of `buf` (consumed); None if the stream is malformed."""
    msgs = []
    pos = 0
    while len(buf) - pos >= HDR:
        n = int.from_bytes(buf[pos : pos + HDR], "little")
        if n > MAX_MESSAGE:
            return None
        if len(buf) - pos - HDR < n:
            break
        try:
            msgs.append(json.loads(bytes(buf[pos + HDR : pos + HDR + n])))
        except (ValueError, RecursionError):  # only a subverted worker sends such bytes
            return None
        pos += HDR + n
    if pos:
        del buf[:pos]
    return msgs


def check_cases(cases: Any) -> list[bytes]:
    """Validate run_cases' cases (dicts of identifier -> JSON-like value); marshal each once.

    Raises TypeError/ValueError naming the bad case: these come from task files."""
    if not isinstance(cases, list):
        raise TypeError("cases must be a list of dicts")
    out = []
    for k, case in enumerate(cases):
        if not isinstance(case, dict):
            raise TypeError(f"case {k}: expected a dict, got {type(case).__name__}")
        for name, value in case.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"case {k}: variable name {name!r} is not an identifier")
            if name.startswith("__"):
                raise ValueError(f"case {k}: variable name {name!r} is reserved")
            _check_value(value, f"case {k} variable {name!r}", 0)
        out.append(marshal.dumps(case))
    return out


def _check_value(v: Any, where: str, depth: int) -> None:
    if depth > 20:
        raise ValueError(f"{where}: nested too deeply")
    if v is None or type(v) in (int, float, str, bool):
        return
    if type(v) is list:
        for x in v:
            _check_value(x, where, depth + 1)
        return
    if type(v) is dict:
        for key, x in v.items():
            if type(key) is not str:
                raise ValueError(f"{where}: dict keys must be str")
            _check_value(x, where, depth + 1)
        return
    raise TypeError(f"{where}: {type(v).__name__} is not JSON-like (int, float, str, bool, list)")
