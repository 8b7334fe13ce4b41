"""Sandbox worker processes: the fast tier and the strict-tier zygote.

Run as a script in a fresh interpreter (`python -I -S -B _sandbox_worker.py fast|zygote FDS...`),
never imported by the engine: it must hold nothing of the engine (no torch, no expected answers,
no environment). Only the standard library is used.

Wire format in both directions: 4-byte little-endian length + payload. Engine -> worker payloads
are `marshal` (the engine is trusted); worker -> engine payloads are JSON (the engine never
unmarshals data a sandboxed process could have written).

Fast tier: one long-lived process runs many programs, each with fresh globals and a small
builtins dict, stdout captured in memory with a cap, a soft per-program deadline (SIGALRM raises
an exception the program cannot name) and an integrity check after every program. The engine
owns the hard deadline (SIGKILL) and reads progress from a shared memory page.

Strict tier: the zygote forks one child per program; the child drops every privilege (rlimits,
empty chroot, unprivileged uid, no further processes) before compiling and running the program
with full builtins. The zygote enforces the deadline with SIGKILL and reads stdout and the result
record from memfds.
"""

import builtins
import gc
import json
import marshal
import os
import resource
import select
import signal
import sys
import time

_HDR = 4
_MAX_RECORD = 4096


def _read_exact(fd, n):
    chunks = []
    while n > 0:
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            os._exit(0)  # engine went away: leave quietly
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def _recv(fd):
    n = int.from_bytes(_read_exact(fd, _HDR), "little")
    return marshal.loads(_read_exact(fd, n))


def _send(fd, obj, _dumps=json.dumps, _write=os.write):
    data = _dumps(obj).encode("utf-8")
    data = len(data).to_bytes(_HDR, "little") + data
    view = memoryview(data)
    while view:
        n = _write(fd, view)
        view = view[n:]


def _netns_id():
    try:
        return os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return None


def _limit(res, value):
    try:
        resource.setrlimit(res, (value, value))
        return True
    except (ValueError, OSError):
        return False


def _drop_privileges(settings, info):
    """chroot into the empty root and switch to the sandbox uid (root only); fail closed."""
    root = settings.get("chroot")
    uid = settings.get("uid")
    if root:
        os.chroot(root)
        os.chdir("/")
        info["chroot"] = True
    else:
        os.chdir(settings.get("cwd") or "/")
        info["chroot"] = False
    if uid is not None:
        os.setgroups([])
        os.setgid(settings["gid"])
        os.setuid(uid)
        if os.getuid() != uid or os.geteuid() != uid:
            os._exit(3)
        try:
            os.setuid(0)
        except OSError:
            pass
        else:
            os._exit(3)  # privileges could be regained: refuse to run anything
        info["uid_drop"] = True
    else:
        info["uid_drop"] = False
    info["uid"] = os.getuid()


# ---------------------------------------------------------------------------------------------
# Fast tier
# ---------------------------------------------------------------------------------------------

FAST_BUILTIN_NAMES = (
    "abs all any ascii bin bool bytes callable chr complex dict divmod enumerate filter float "
    "frozenset hash hex int isinstance issubclass iter len list map max min next oct ord pow "
    "print range repr reversed round set slice sorted str sum tuple zip Ellipsis NotImplemented"
).split()

# Attribute and global names that lead from a plain value to frames, code, globals or the
# runtime without an underscore. Prefixes cover frame/generator/coroutine/traceback/code fields.
_BLOCKED_PREFIXES = ("_", "f_", "tb_", "co_", "gi_", "cr_", "ag_")
_BLOCKED_EXTRA = {"mro", "format", "format_map", "exit", "quit", "help", "copyright", "credits"}


def _fast_builtins():
    fb = {}
    for name in FAST_BUILTIN_NAMES:
        fb[name] = getattr(builtins, name)
    for name, value in vars(builtins).items():
        if isinstance(value, type) and issubclass(value, BaseException):
            fb[name] = value
    return fb


class _Timeout(BaseException):
    """Raised by the soft per-program timer; programs cannot name it."""


class _OutputLimit(BaseException):
    """Raised when a program writes more than the output cap."""


class _Out:
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
            raise _OutputLimit
        self.n = n
        self.parts.append(s)
        return len(s)

    def flush(self):
        pass


class _Sink:
    """The fast worker's stderr: accepts and drops everything."""

    __slots__ = ()

    def write(self, s):
        return len(s) if s.__class__ is str else 0

    def flush(self):
        pass


class Integrity:
    """What a fast worker checks after each program: the state programs must not change."""

    def __init__(self, fast_builtins, out, alarm_handler):
        import _thread

        self.fb, self.fb_snapshot = fast_builtins, dict(fast_builtins)
        self.real_b = builtins.__dict__
        self.real_b_snapshot = dict(self.real_b)
        self.modules = sys.modules
        self.modules_snapshot = dict(sys.modules)
        self.env = os.environ._data
        self.env_snapshot = dict(self.env)
        self.out = out
        self.err = sys.stderr
        self.alarm_handler = alarm_handler
        self.signals = {
            s: signal.getsignal(s) for s in signal.valid_signals() if s < signal.SIGRTMIN
        }
        self.thread_count = _thread._count
        self.threads = _thread._count()

    def check(self, full, _getsignal=signal.getsignal, _sys=sys):
        """'' when clean, else what changed. `full`: also every signal handler (slower)."""
        if self.fb != self.fb_snapshot or self.real_b != self.real_b_snapshot:
            return "builtins"
        if self.modules != self.modules_snapshot:  # same names bound to the same modules
            return "sys.modules"
        if _sys.gettrace() is not None or _sys.getprofile() is not None:
            return "trace hook"
        if self.thread_count() != self.threads:
            return "threads"
        if self.env != self.env_snapshot:
            return "environment"
        if _sys.stdout is not self.out or _sys.stderr is not self.err:
            return "stdout"
        if _getsignal(signal.SIGALRM) is not self.alarm_handler:
            return "signal handlers"
        if full:
            for s, h in self.signals.items():
                if _getsignal(s) is not h:
                    return "signal handlers"
        return ""


def _fast_main(cmd_fd, res_fd, prog_fd):
    import ctypes
    import mmap
    import opcode
    import struct

    settings = _recv(cmd_fd)
    info = {"kind": "fast", "pid": os.getpid(), "netns_id": _netns_id()}
    libc = ctypes.CDLL(None, use_errno=True)
    mm = mmap.mmap(prog_fd, 64)
    pack_into = struct.pack_into
    unpack_from = struct.unpack_from
    monotonic = time.monotonic
    perf = time.perf_counter

    mem = settings["memory_mb"] * 1024 * 1024
    info["rlimits"] = {
        "AS": _limit(resource.RLIMIT_AS, mem),
        "FSIZE": _limit(resource.RLIMIT_FSIZE, 0),
        "NOFILE": _limit(resource.RLIMIT_NOFILE, 16),
        "CORE": _limit(resource.RLIMIT_CORE, 0),
    }
    if settings.get("uid") is not None:
        info["rlimits"]["NPROC"] = _limit(resource.RLIMIT_NPROC, 1)
    _drop_privileges(settings, info)
    # After the uid change (which clears it): die with the engine, and never gain privileges.
    info["pdeathsig"] = libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0  # PR_SET_PDEATHSIG
    info["no_new_privs"] = libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
    libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no ptrace/proc access by the same uid
    if os.getppid() != settings["engine_pid"]:
        os._exit(0)
    del libc, ctypes

    fb = _fast_builtins()
    blocked = frozenset(n for n in dir(builtins) if n not in fb) | _BLOCKED_EXTRA
    bad_ops = bytes(
        opcode.opmap[n]
        # MATCH_CLASS: `case int(__class__=c)` reads attributes named in co_consts, not co_names.
        for n in ("IMPORT_NAME", "IMPORT_FROM", "IMPORT_STAR", "LOAD_BUILD_CLASS", "MATCH_CLASS")
        if n in opcode.opmap
    )
    code_type = type(_fast_main.__code__)

    def fast_ok(co):
        for name in co.co_names:
            if name in blocked or name.startswith(_BLOCKED_PREFIXES):
                return False
        ops = co.co_code[::2]
        for op in bad_ops:
            if op in ops:
                return False
        for c in co.co_consts:
            if c.__class__ is code_type and not fast_ok(c):
                return False
        return True

    out = _Out()
    sys.stdout = out
    sys.stderr = _Sink()  # warnings and "Exception ignored" reports: not the program's stdout
    running = [False]

    def on_alarm(signum, frame):
        if running[0]:
            raise _Timeout

    signal.signal(signal.SIGALRM, on_alarm)
    setitimer = signal.setitimer
    ITIMER_REAL = signal.ITIMER_REAL
    sys.setrecursionlimit(settings.get("recursion_limit", 1000))

    integrity = Integrity(fb, out, on_alarm)  # baseline, once everything needed is loaded
    clean = integrity.check
    gc.collect()
    gc.freeze()  # the worker's own objects are never scanned by later collections
    # No automatic collections: everything a program allocates stays in generation 0, and the
    # collect(0) after each program finalizes all of its garbage then, so no finalizer of one
    # program can run (and print) during a later one.
    gc.disable()
    collect = gc.collect

    info["builtins"] = sorted(fb)
    _send(res_fd, ["ready", info])
    cache = {}
    while True:
        msg = _recv(cmd_fd)
        seq, timeout, cap, codes = msg
        results = []
        last_flush = monotonic()
        leave = ""
        for i, src in enumerate(codes):
            lseq, limit = unpack_from("<qq", mm, 24)
            if lseq == seq and i >= limit:
                break  # the engine handed the rest of this message to another worker
            t0 = perf()
            pack_into("<qqd", mm, 0, seq, i, monotonic())
            entry = cache.get(src)
            if entry is None:
                try:
                    co = compile(src, "<program>", "exec", dont_inherit=True)
                    entry = (co, fast_ok(co), "")
                except BaseException as e:  # SyntaxError, ValueError (NUL), RecursionError...
                    entry = (None, True, _describe(e))
                if len(cache) > 8192:
                    cache.clear()
                cache[src] = entry
            co, fast, err = entry
            if co is None:
                results.append([i, "error", "", err, perf() - t0])
                continue
            if not fast:
                results.append([i, "strict", "", "", 0.0])
                continue
            out.parts = []
            out.n = 0
            out.cap = cap
            status, err = "ok", ""
            g = {"__builtins__": fb, "__name__": "__main__"}
            try:
                try:
                    running[0] = True
                    setitimer(ITIMER_REAL, timeout)
                    exec(co, g)
                    running[0] = False
                except _Timeout:
                    running[0] = False
                    status, err = "timeout", f"TimeoutError: exceeded {timeout:g}s"
                except _OutputLimit:
                    running[0] = False
                    status, err = "error", f"OutputLimitExceeded: more than {cap} characters"
                except SystemExit as e:
                    running[0] = False
                    status, err = "killed", _describe(e)
                except BaseException as e:
                    running[0] = False
                    status, err = "error", _describe(e)
                finally:
                    setitimer(ITIMER_REAL, 0)
            except _Timeout:
                status, err = "timeout", f"TimeoutError: exceeded {timeout:g}s"
            running[0] = False
            setitimer(ITIMER_REAL, 0)
            text = "".join(out.parts)
            if out.n > cap and status == "ok":
                status, err = "error", f"OutputLimitExceeded: more than {cap} characters"
            g.clear()  # breaks the function <-> globals cycles a program leaves behind
            del g
            try:
                running[0] = True  # a finalizer stuck in a loop meets the soft deadline too
                setitimer(ITIMER_REAL, timeout)
                collect(0)
            except BaseException:
                pass
            finally:
                running[0] = False
                setitimer(ITIMER_REAL, 0)
            # After a MemoryError the heap may stay fragmented: hand over to a fresh process.
            leave = "memory" if err.startswith("MemoryError") else ""
            dirty = clean(i + 1 == len(codes))
            if dirty:
                status, err = "killed", f"SandboxViolation: worker {dirty} changed"
                leave = dirty
            results.append([i, status, text, err, perf() - t0])
            if leave:
                break
            now = monotonic()
            if len(results) >= 64 or now - last_flush > 0.02:
                _send(res_fd, ["r", seq, results, 0])
                results = []
                last_flush = now
        _send(res_fd, ["r", seq, results, 2 if leave else 1])
        if leave:
            os._exit(0)


def _describe(e, _type=type, _str=str, _len=len, _isinstance=isinstance):
    """'TypeName: message', short; never raises."""
    try:
        name = _type(e).__name__
    except BaseException:
        name = "Exception"
    try:
        msg = _str(e)
    except BaseException:
        msg = ""
    if not _isinstance(name, str):
        name = "Exception"
    if not _isinstance(msg, str):
        msg = ""
    text = f"{name}: {msg}" if msg else name
    return text if _len(text) <= 300 else text[:297] + "..."


# ---------------------------------------------------------------------------------------------
# Strict tier
# ---------------------------------------------------------------------------------------------

# Modules a strict-tier program may import: loaded by the zygote before any fork, since the
# chrooted child cannot read the standard library. Anything else fails with ModuleNotFoundError.
STRICT_PRELOAD = (
    "math cmath random itertools collections functools operator re json string heapq bisect "
    "copy fractions decimal statistics datetime textwrap array struct enum typing dataclasses "
    "abc numbers keyword unicodedata"
).split()
# Loaded as a side effect of the zygote or the preloads, but not for programs.
STRICT_HIDDEN = ("ctypes", "_ctypes", "mmap", "_posixsubprocess", "subprocess", "socket", "_socket")


def _zygote_main(cmd_fd, res_fd):
    import io

    settings = _recv(cmd_fd)
    info = {"kind": "strict", "pid": os.getpid(), "netns_id": _netns_id()}
    for name in STRICT_PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    for name in STRICT_HIDDEN:
        sys.modules.pop(name, None)
    info["modules"] = sorted(n for n in STRICT_PRELOAD if n in sys.modules)
    info["pidns"] = os.getpid() == 1
    devnull = os.open("/dev/null", os.O_RDWR)
    gc.collect()
    gc.freeze()
    info["chroot"] = bool(settings.get("chroot"))
    info["uid_drop"] = settings.get("uid") is not None
    info["uid"] = settings.get("uid")
    _send(res_fd, ["ready", info])
    ctx = {"io": io, "devnull": devnull, "cmd_fd": cmd_fd, "res_fd": res_fd}
    while True:
        msg = _recv(cmd_fd)
        seq, timeout, deadline, cap, codes = msg
        ctx["batch"] = codes  # emptied in each child: a program cannot read its batch-mates
        for i, src in enumerate(codes):
            status, text, err, dur = _run_child(src, timeout, deadline, cap, settings, ctx)
            _send(
                res_fd, ["r", seq, [[i, status, text, err, dur]], 1 if i + 1 == len(codes) else 0]
            )


def _run_child(src, timeout, deadline, cap, settings, ctx):
    out_fd = os.memfd_create("altlas_out")
    rec_fd = os.memfd_create("altlas_rec")
    exit_ = os._exit
    # The record must start with this token: a program spraying "ok" into descriptors before
    # os._exit(0) does not pass. (One that digs the token out of the harness frame can; it can
    # only fake its own result, see docs/sandbox.md.)
    token = os.urandom(12).hex()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            _child(src, timeout, cap, settings, ctx, out_fd, rec_fd, token)
        finally:
            exit_(71)
    timed_out = False
    engine_gone = False
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        pidfd = None
    poller = select.poll()
    if pidfd is not None:
        poller.register(pidfd, select.POLLIN)
    poller.register(ctx["cmd_fd"], 0)  # reports only POLLHUP/POLLERR: the engine went away
    try:
        while True:
            left = t0 + deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            if pidfd is not None:
                events = poller.poll(max(1, int(left * 1000 + 0.999)))
                if any(fd == ctx["cmd_fd"] for fd, _ in events):
                    engine_gone = True
                    break
                if events:
                    break
            else:
                time.sleep(min(left, 0.001))
                if os.waitpid(pid, os.WNOHANG)[0]:
                    pid = -pid  # already reaped
                    break
    finally:
        if pid > 0:
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            _, wstatus = os.waitpid(pid, 0)
        else:
            wstatus = 0
        if pidfd is not None:
            os.close(pidfd)
    if engine_gone:
        os._exit(0)
    dur = time.monotonic() - t0
    while True:  # reap orphans re-parented to us (we are init of the pid namespace)
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    size = os.fstat(out_fd).st_size
    data = os.pread(out_fd, cap, 0) if size else b""
    rec = os.pread(rec_fd, _MAX_RECORD + 1, 0)
    os.close(out_fd)
    os.close(rec_fd)
    text = data.decode("utf-8", "replace")
    if timed_out:
        return "timeout", text, f"TimeoutError: exceeded {timeout:g}s", dur
    if os.WIFSIGNALED(wstatus):
        sig = os.WTERMSIG(wstatus)
        if sig == signal.SIGXFSZ:
            return "killed", text, f"OutputLimitExceeded: more than {cap} bytes", dur
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return "killed", text, f"Killed: signal {name}", dur
    code = os.WEXITSTATUS(wstatus)
    if code != 0 or not rec or len(rec) > _MAX_RECORD:
        return "killed", text, f"Killed: exited with code {code} before finishing", dur
    head, _, rest = rec.decode("utf-8", "replace").partition("\n")
    status, _, err = rest.partition("\n")
    if head != token or status not in ("ok", "error", "killed"):
        return "killed", text, "Killed: malformed result", dur
    if size > cap and status == "ok":
        status, err = "error", f"OutputLimitExceeded: more than {cap} bytes"
    return status, text, err, dur


def _child(src, timeout, cap, settings, ctx, out_fd, rec_fd, token):
    """In the forked child: lock down, run the program, write the record, _exit. Never returns."""
    io = ctx["io"]
    devnull = ctx["devnull"]
    ctx["batch"].clear()
    os.setsid()
    os.dup2(devnull, 0)
    os.dup2(out_fd, 1)
    os.dup2(devnull, 2)
    os.dup2(rec_fd, 3)
    os.closerange(4, 1 << 16)
    info = {}
    mem = settings["memory_mb"] * 1024 * 1024
    ok = _limit(resource.RLIMIT_AS, mem)
    ok &= _limit(resource.RLIMIT_CPU, int(timeout) + 1)
    ok &= _limit(resource.RLIMIT_FSIZE, max(cap + 1, _MAX_RECORD + 1))
    ok &= _limit(resource.RLIMIT_NOFILE, 16)
    ok &= _limit(resource.RLIMIT_CORE, 0)
    if settings.get("uid") is not None:
        ok &= _limit(resource.RLIMIT_NPROC, 1)
    if not ok:
        os._exit(72)
    try:
        _drop_privileges(settings, info)
    except OSError:
        os._exit(73)
    stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="replace")
    sys.stdout = stdout
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8")
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    # Nothing of the zygote is reachable from the program's frames: empty the globals of every
    # frame below (this function keeps what it needs in locals).
    write, exit_, describe, compile_, exec_ = os.write, os._exit, _describe, compile, exec
    globals_ = {"__builtins__": builtins, "__name__": "__main__"}
    sys.modules.pop("__main__", None)
    f = sys._getframe()
    while f is not None:
        if f.f_globals is not globals_:
            f.f_globals.clear()
        f = f.f_back
    del f, ctx, settings, info
    status, err = "ok", ""
    try:
        code = compile_(src, "<program>", "exec", dont_inherit=True)
        del src
        exec_(code, globals_)
    except SystemExit as e:
        status, err = "killed", describe(e)
    except BaseException as e:
        status, err = "error", describe(e)
    try:
        stdout.flush()
    except BaseException:
        pass
    try:
        write(3, (token + "\n" + status + "\n" + err).encode("utf-8", "replace"))
    except BaseException:
        pass
    exit_(0)


def main():
    kind = sys.argv[1]
    fds = [int(a) for a in sys.argv[2:]]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal is the engine's business
    if kind == "fast":
        _fast_main(*fds)
    elif kind == "zygote":
        _zygote_main(*fds)
    else:
        os._exit(2)


if __name__ == "__main__":
    main()
