"""Fast-tier worker: one long-lived process runs many plain programs (worker side).

Each program is compiled once (bounded cache), checked for names that reach the runtime, then
run once per case with fresh globals (the case's values, unmarshalled anew for every run) and a
small builtins dict; stdout is captured in memory with a cap. A soft deadline (SIGALRM raising an
exception the program cannot name, re-fired every few ms) interrupts ordinary loops; its firing
is recorded, so a program that catches it still comes back `timeout`. Cleanup after a program
(releasing its globals, garbage collection to a fixed point) runs inside the program's own time
and is blamed on it. An integrity check after every program covers builtins, modules, signals,
threads, trace hooks, stdout and the `__dict__` of every mutable type reachable from the fast
builtins. The engine owns the hard deadline (SIGKILL) and reads progress from a shared page.
"""

import builtins
import gc
import marshal
import opcode
import os
import signal
import sys
import time

try:
    from . import lockdown, wire
    from .integrity import Integrity
except ImportError:  # run as a script by entry.py: siblings are top-level modules
    import lockdown
    import wire
    from integrity import Integrity

FAST_BUILTIN_NAMES = (
    "abs all any ascii bin bool bytes callable chr complex dict divmod enumerate filter float "
    "frozenset hash hex int isinstance issubclass iter len list map max min next oct ord pow "
    "print range repr reversed round set slice sorted str sum tuple zip Ellipsis NotImplemented"
).split()

# Attribute and global names that lead from a plain value to frames, code, globals or the
# runtime without an underscore. Prefixes cover frame/generator/coroutine/traceback/code fields.
BLOCKED_PREFIXES = ("_", "f_", "tb_", "co_", "gi_", "cr_", "ag_")
BLOCKED_EXTRA = {"mro", "format", "format_map", "exit", "quit", "help", "copyright", "credits"}
TICK = 0.005  # the soft deadline fires again every TICK until the program is over
GRACE = 0.01  # cleanup time after a soft timeout (the engine's hard kill comes later)
CACHE_BYTES = 16 << 20  # compile cache bound (estimated size of code objects + sources)
CACHE_ENTRY_BYTES = 1 << 20  # larger compiled programs are not cached


def fast_builtins():
    """The builtins dict of fast-tier programs: plain functions, types, exception classes."""
    fb = {}
    for name in FAST_BUILTIN_NAMES:
        fb[name] = getattr(builtins, name)
    for name, value in vars(builtins).items():
        if isinstance(value, type) and issubclass(value, BaseException):
            fb[name] = value
    return fb


def code_bytes(co, _sizeof=sys.getsizeof, _code=type(fast_builtins.__code__)):
    """Estimated memory held by a code object: itself, its bytecode and its constants."""
    total = 0
    stack = [co]
    seen = set()
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        total += _sizeof(v)
        if v.__class__ is _code:
            total += len(v.co_code)
            stack.extend(v.co_consts)
        elif v.__class__ in (tuple, frozenset):
            stack.extend(v)
    return total


class Timeout(BaseException):
    """Raised by the soft per-program timer; programs cannot name it."""


class OutputLimit(BaseException):
    """Raised when a program writes more than the output cap."""


class Out:
    """Captured stdout of one fast-tier program."""

    __slots__ = ("parts", "n", "cap")

    def __init__(self):
        self.parts = []
        self.n = 0
        self.cap = 0

    def write(self, s):
        if s.__class__ is not str:
            raise TypeError("write() argument must be str")
        n = self.n + len(s)
        if n > self.cap:
            room = self.cap - self.n
            if room > 0:
                self.parts.append(s[:room])
            self.n = n
            raise OutputLimit
        self.n = n
        self.parts.append(s)
        return len(s)

    def flush(self):
        pass


class Sink:
    """The fast worker's stderr: accepts and drops everything."""

    __slots__ = ()

    def write(self, s):
        return len(s) if s.__class__ is str else 0

    def flush(self):
        pass


def _router(code_type):
    """fast_ok(code): whether a compiled program may run in the fast tier."""
    fb = fast_builtins()
    blocked = frozenset(n for n in dir(builtins) if n not in fb) | BLOCKED_EXTRA
    bad_ops = bytes(
        opcode.opmap[n]
        # MATCH_CLASS: `case int(__class__=c)` reads attributes named in co_consts, not co_names.
        for n in ("IMPORT_NAME", "IMPORT_FROM", "IMPORT_STAR", "LOAD_BUILD_CLASS", "MATCH_CLASS")
        if n in opcode.opmap
    )

    def fast_ok(co):
        for name in co.co_names:
            if name in blocked or name.startswith(BLOCKED_PREFIXES):
                return False
        ops = co.co_code[::2]
        for op in bad_ops:
            if op in ops:
                return False
        for c in co.co_consts:
            if c.__class__ is code_type and not fast_ok(c):
                return False
        return True

    return fast_ok


def fast_main(cmd_fd, res_fd, prog_fd):
    """The fast worker: lock down, then serve messages until the engine hangs up."""
    import ctypes
    import mmap
    import struct

    settings = wire.recv(cmd_fd)
    info = {"kind": "fast", "pid": os.getpid(), "netns_id": lockdown.netns_id()}
    info["ns"] = lockdown.ns_ids()
    libc = ctypes.CDLL(None, use_errno=True)
    mm = mmap.mmap(prog_fd, 64)
    os.close(prog_fd)
    info["rlimits"] = lockdown.set_rlimits(
        settings["memory_mb"], 0, nproc=settings.get("uid") is not None
    )
    lockdown.drop_privileges(settings, info)
    lockdown.process_flags(libc, settings, info)
    if os.getppid() != settings["engine_pid"]:
        os._exit(0)

    fb = fast_builtins()
    fast_ok = _router(type(fast_main.__code__))
    out = Out()
    sys.stdout = out
    sys.stderr = Sink()  # warnings and "Exception ignored" reports: not the program's stdout
    running = [False]
    fired = [0]

    def on_alarm(signum, frame):
        if running[0]:
            fired[0] += 1
            raise Timeout

    signal.signal(signal.SIGALRM, on_alarm)
    sys.setrecursionlimit(settings.get("recursion_limit", 1000))
    integrity = Integrity(fb, out, on_alarm)  # baseline, once everything needed is loaded
    # Last layer: from here on only the system calls on the engine's allow-list work.
    lockdown.install_seccomp(ctypes, libc, settings.get("seccomp"), info)
    if settings.get("seccomp") and not info["seccomp"]:
        os._exit(4)  # asked for a filter that did not load: refuse to run anything
    del libc, ctypes
    gc.collect()
    gc.freeze()  # the worker's own objects are never scanned by later collections
    # No automatic collections: a program's garbage is collected right after it, in its time.
    gc.disable()
    info["builtins"] = sorted(fb)
    info["mutable_types"] = sorted(t.__name__ for t, _ in integrity.types)
    wire.send(res_fd, ["ready", info])
    state = _State(fb, out, running, fired, integrity.check, fast_ok)
    while True:
        _serve(wire.recv(cmd_fd), state, mm, struct, res_fd)


class _State:
    __slots__ = ("fb", "out", "running", "fired", "clean", "fast_ok", "cache", "cache_bytes")

    def __init__(self, fb, out, running, fired, clean, fast_ok):
        self.fb, self.out, self.running, self.fired = fb, out, running, fired
        self.clean, self.fast_ok = clean, fast_ok
        self.cache = {}
        self.cache_bytes = 0


def _compile(st, src):
    """(code or None, fast?, error, leave?) for a source, from the bounded cache if possible."""
    entry = st.cache.get(src)
    if entry is not None:
        return entry
    leave = False
    try:
        co = compile(src, "<program>", "exec", dont_inherit=True)
        entry = (co, st.fast_ok(co), "")
        size = code_bytes(co) + sys.getsizeof(src)
    except BaseException as e:  # SyntaxError, ValueError (NUL), RecursionError, MemoryError
        entry = (None, True, wire.describe_exc(e))
        size = sys.getsizeof(src)
        leave = isinstance(e, MemoryError)
    if size <= CACHE_ENTRY_BYTES and not leave:
        if st.cache_bytes + size > CACHE_BYTES:
            st.cache.clear()
            st.cache_bytes = 0
        st.cache[src] = entry
        st.cache_bytes += size
    return entry if not leave else (None, True, entry[2], True)


def _serve(msg, st, mm, struct, res_fd):
    """Run one message: programs x cases; results flushed every 64 programs or 20 ms."""
    seq, timeout, cap, codes, cases, ncases = msg
    pack_into, unpack_from = struct.pack_into, struct.unpack_from
    monotonic, perf = time.monotonic, time.perf_counter
    results = []
    last_flush = monotonic()
    leave = ""
    for i, src in enumerate(codes):
        lseq, limit = unpack_from("<qq", mm, 32)
        if lseq == seq and i >= limit:
            break  # the engine handed the rest of this message to another worker
        t0 = perf()
        pack_into("<qqdq", mm, 0, seq, i, monotonic(), 0)
        entry = _compile(st, src)
        co, fast, err = entry[0], entry[1], entry[2]
        n = ncases[i]
        if co is None:
            r = ["error", "", err, perf() - t0]
            results.append([i, [r] * n])
            if len(entry) > 3:
                leave = "memory"
                break
            continue
        if not fast:
            results.append([i, "strict"])
            continue
        cres = []
        for j in range(n):
            if j:
                pack_into("<qqdq", mm, 0, seq, i, monotonic(), j)
            r, leave = _run_case(st, co, cases[j], timeout, cap, i + 1 == len(codes))
            cres.append(r)
            if leave or r[0] in ("timeout", "killed"):
                # The rest of this program's cases share the outcome without running.
                cres.extend([[r[0], "", r[2], 0.0]] * (n - j - 1))
                break
        results.append([i, cres])
        if leave:
            break
        now = monotonic()
        if len(results) >= 64 or now - last_flush > 0.02:
            wire.send(res_fd, ["r", seq, results, 0])
            results = []
            last_flush = now
    wire.send(res_fd, ["r", seq, results, 2 if leave else 1])
    if leave:
        os._exit(0)


def _run_case(st, co, case, timeout, cap, last, _loads=marshal.loads, _counters=wire.counters):
    """Run one compiled program on one case; ([status, stdout, error, duration(, counters)],
    leave). The fifth element is there only when the program left loop counters (wire.py)."""
    out, running, fired = st.out, st.running, st.fired
    setitimer, REAL, collect, perf = (
        signal.setitimer,
        signal.ITIMER_REAL,
        gc.collect,
        time.perf_counter,
    )
    t0 = perf()
    out.parts = []
    out.n = 0
    out.cap = cap
    g = _loads(case)  # a fresh copy on every run: no mutation leaks between cases
    g["__builtins__"] = st.fb
    g["__name__"] = "__main__"
    status, err = "ok", ""
    timed = False
    phase = 0
    fired[0] = 0
    counts = None
    try:
        running[0] = True
        setitimer(REAL, timeout, TICK)
        try:
            exec(co, g)
        except Timeout:
            pass
        except OutputLimit:
            status, err = "error", f"OutputLimitExceeded: more than {cap} characters"
        except SystemExit as e:
            status, err = "killed", wire.describe_exc(e)
        except BaseException as e:
            status, err = "error", wire.describe_exc(e)
        counts = _counters(g)  # before the globals are cleared; type-checked, no program code
        phase = 1
        if fired[0]:
            timed = True  # recorded: the program is `timeout` whatever it did afterwards
            fired[0] = 0
            setitimer(REAL, GRACE, TICK)
        # Cleanup in the program's own time: its finalizers run now, blamed on it.
        g.clear()
        while collect(0):
            if fired[0]:
                break
        if not fired[0]:
            phase = 2
    except Timeout:
        pass
    while True:  # disarm; a last alarm may land on any bytecode before the flag is down
        try:
            running[0] = False
            break
        except Timeout:
            pass
    setitimer(REAL, 0)
    leave = ""
    if timed or fired[0]:
        status, err = "timeout", f"TimeoutError: exceeded {timeout:g}s"
    if phase < 2:
        leave = "cleanup"  # garbage or a finalizer may be left: continue in a fresh process
    text = "".join(out.parts)
    if out.n > cap and status == "ok":
        status, err = "error", f"OutputLimitExceeded: more than {cap} characters"
    if err.startswith("MemoryError"):
        leave = "memory"  # the heap may stay fragmented: hand over to a fresh process
    dirty = st.clean(last)
    if dirty:
        status, err = "killed", f"SandboxViolation: worker {dirty} changed"
        leave = dirty
    r = [status, text, err, perf() - t0]
    if counts is not None:
        r.append(counts)
    return r, leave
