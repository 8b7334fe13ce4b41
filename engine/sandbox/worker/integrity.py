"""The fast worker's integrity check: state a program must leave exactly as it found it.

Checked after every program: the fast and real builtins dicts, the `__dict__` of every mutable
type reachable from the fast builtins (found by walking, not listed: ExceptionGroup on 3.11, and
whatever a later CPython adds), sys.modules, the environment, trace/profile hooks, the thread
count, stdout/stderr and signal handlers. Anything changed: the program is `killed`
(SandboxViolation) and the worker is replaced.
"""

import builtins
import os
import signal
import sys

IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE


def mutable_types(roots):
    """Every type reachable from `roots` (via mro, metaclass and class attributes) whose
    `__dict__` can be changed. General on purpose: a new CPython's new heap types are found."""
    seen = set()
    found = []
    stack = list(roots)
    while stack:
        v = stack.pop()
        t = v if isinstance(v, type) else type(v)
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.extend(t.__mro__)
        stack.append(type(t))
        stack.extend(t.__dict__.values())
        if not t.__flags__ & IMMUTABLE_TYPE:
            found.append(t)
    return found


class Integrity:
    """What a fast worker checks after each program: the state programs must not change."""

    def __init__(self, fast_builtins, out, alarm_handler):
        import _thread

        # Dicts are compared by identity of keys and values in order: `d != snapshot` would
        # call == on ~300 values after every program (tens of µs); this is a few µs.
        self.dicts = [
            (d, tuple(d), tuple(d.values()))
            for d in (fast_builtins, builtins.__dict__, sys.modules, os.environ._data)
        ]
        self.types = [(t, dict(t.__dict__)) for t in mutable_types(fast_builtins.values())]
        self.names = {
            id(fast_builtins): "builtins",
            id(builtins.__dict__): "builtins",
            id(sys.modules): "sys.modules",
            id(os.environ._data): "environment",
        }
        self.out = out
        self.err = sys.stderr
        self.alarm_handler = alarm_handler
        self.signals = {
            s: signal.getsignal(s) for s in signal.valid_signals() if s < signal.SIGRTMIN
        }
        self.thread_count = _thread._count
        self.threads = _thread._count()

    def check(self, full, _getsignal=signal.getsignal, _sys=sys, _len=len, _tuple=tuple, _id=id):
        """'' when clean, else what changed. `full`: also every signal handler (slower)."""
        for d, keys, values in self.dicts:
            # A key renamed in place is the one change values and length miss (a dict appends
            # on insert, so only renaming the last key keeps the order): keys on `full` checks.
            if _len(d) != _len(keys) or _tuple(d.values()) != values:
                return self.names[_id(d)]
            if full and _tuple(d) != keys:
                return self.names[_id(d)]
        for t, snap in self.types:
            d = t.__dict__
            if _len(d) != _len(snap):
                return "type " + t.__name__
            for k, v in snap.items():
                if d.get(k) is not v:
                    return "type " + t.__name__
        if _sys.gettrace() is not None or _sys.getprofile() is not None:
            return "trace hook"
        if self.thread_count() != self.threads:
            return "threads"
        if _sys.stdout is not self.out or _sys.stderr is not self.err:
            return "stdout"
        if _getsignal(signal.SIGALRM) is not self.alarm_handler:
            return "signal handlers"
        if full:
            for s, h in self.signals.items():
                if _getsignal(s) is not h:
                    return "signal handlers"
        return ""
