"""Strict-tier zygote: one fork per program and case, full language, locked-down child.

The zygote (pid 1 of its own pid namespace when available) preloads a few pure modules, then
loads the strict seccomp filter on itself, so every child inherits it. For each run it forks a
child that drops every privilege (rlimits, empty chroot, unprivileged uid, no further processes)
before compiling and running the program with full builtins and the case's values as globals.
The zygote enforces the deadline with SIGKILL and reads stdout and the result record from memfds.
"""

import builtins
import gc
import marshal
import os
import select
import signal
import sys
import time

try:
    from . import lockdown, wire
except ImportError:  # run as a script by entry.py
    import lockdown
    import wire

MAX_RECORD = 4096
# Modules a strict-tier program may import: loaded by the zygote before any fork, since the
# chrooted child cannot read the standard library. Anything else fails with ModuleNotFoundError.
STRICT_PRELOAD = (
    "math cmath random itertools collections functools operator re json string heapq bisect "
    "copy fractions decimal statistics datetime textwrap array struct enum typing dataclasses "
    "abc numbers keyword unicodedata"
).split()
# Loaded as a side effect of the zygote or the preloads, but not for programs.
STRICT_HIDDEN = (
    "ctypes", "_ctypes", "mmap", "_posixsubprocess", "subprocess", "socket", "_socket",
    "lockdown", "wire", "fast", "strict", "entry", "integrity",
)  # fmt: skip


def zygote_main(cmd_fd, res_fd):
    """Serve strict-tier messages until the engine hangs up."""
    import ctypes
    import io

    settings = wire.recv(cmd_fd)
    info = {"kind": "strict", "pid": os.getpid(), "netns_id": lockdown.netns_id()}
    info["ns"] = lockdown.ns_ids()
    for name in STRICT_PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    info["modules"] = sorted(n for n in STRICT_PRELOAD if n in sys.modules)
    info["pidns"] = os.getpid() == 1
    devnull = os.open("/dev/null", os.O_RDWR)
    libc = ctypes.CDLL(None, use_errno=True)
    # The zygote keeps its privileges (it forks, chroots and drops uid per child) but gets the
    # process flags, a fresh session keyring and the strict filter now: children inherit them.
    lockdown.process_flags(libc, settings, info)
    info["pdeathsig"] = False  # only for the zygote itself; it watches the command pipe instead
    lockdown.install_seccomp(ctypes, libc, settings.get("seccomp"), info)
    if settings.get("seccomp") and not info["seccomp"]:
        os._exit(4)
    del libc, ctypes
    for name in STRICT_HIDDEN:
        sys.modules.pop(name, None)
    gc.collect()
    gc.freeze()
    info["chroot"] = bool(settings.get("chroot"))
    info["uid_drop"] = settings.get("uid") is not None
    info["uid"] = settings.get("uid")
    wire.send(res_fd, ["ready", info])
    ctx = {"io": io, "devnull": devnull, "cmd_fd": cmd_fd, "res_fd": res_fd}
    send = wire.send
    while True:
        seq, timeout, deadline, cap, codes, cases, ncases = wire.recv(cmd_fd)
        ctx["batch"] = codes  # emptied in each child: a program cannot read its batch-mates
        for i, src in enumerate(codes):
            cres = []
            r = None
            n = ncases[i]
            for j in range(n):
                r = _run_child(src, cases[j], timeout, deadline, cap, settings, ctx)
                cres.append(r)
                if r[0] in ("timeout", "killed"):
                    cres.extend([[r[0], "", r[2], 0.0]] * (n - j - 1))
                    break
            send(res_fd, ["r", seq, [[i, cres]], 1 if i + 1 == len(codes) else 0])
            del cres, r  # the next child must not find a batch-mate's output in our memory


def _run_child(src, case, timeout, deadline, cap, settings, ctx):
    """Fork, run one program on one case in the child, reap it: [status, stdout, error, dur]."""
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
            _child(src, case, timeout, cap, settings, ctx, out_fd, rec_fd, token)
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
    rec = os.pread(rec_fd, MAX_RECORD + 1, 0)
    os.close(out_fd)
    os.close(rec_fd)
    text = data.decode("utf-8", "replace")
    if timed_out:
        return ["timeout", text, f"TimeoutError: exceeded {timeout:g}s", dur]
    if os.WIFSIGNALED(wstatus):
        sig = os.WTERMSIG(wstatus)
        if sig == signal.SIGXFSZ:
            return ["killed", text, f"OutputLimitExceeded: more than {cap} bytes", dur]
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return ["killed", text, f"Killed: signal {name}", dur]
    code = os.WEXITSTATUS(wstatus)
    if code != 0 or not rec or len(rec) > MAX_RECORD:
        return ["killed", text, f"Killed: exited with code {code} before finishing", dur]
    head, _, rest = rec.decode("utf-8", "replace").partition("\n")
    status, _, rest = rest.partition("\n")
    counts, _, err = rest.partition("\n")
    if head != token or status not in ("ok", "error", "killed"):
        return ["killed", text, "Killed: malformed result", dur]
    if size > cap and status == "ok":
        status, err = "error", f"OutputLimitExceeded: more than {cap} bytes"
    res = [status, text, err, dur]
    got = _parse_counts(counts)
    if got is not None:
        res.append(got)
    return res


def _parse_counts(text):
    """Loop counters from the child's record ("3,0,12"), or None (none, or not well formed)."""
    if not text:
        return None
    parts = text.split(",")
    if len(parts) > wire.COUNTERS_MAX:
        return None
    out = []
    for p in parts:
        if not (0 < len(p) <= 13 and p.isascii() and p.isdigit()):
            return None
        v = int(p)
        if v > wire.COUNT_MAX:
            return None
        out.append(v)
    return out


def _child(src, case, timeout, cap, settings, ctx, out_fd, rec_fd, token):
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
    got = lockdown.set_rlimits(
        settings["memory_mb"],
        max(cap + 1, MAX_RECORD + 1),
        cpu=int(timeout) + 1,
        nproc=settings.get("uid") is not None,
    )
    if not all(got.values()):
        os._exit(72)
    try:
        lockdown.drop_privileges(settings, info)
    except OSError:
        os._exit(73)
    stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="replace")
    sys.stdout = stdout
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8")
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    # Nothing of the zygote is reachable from the program's frames: empty the globals of every
    # frame below (this function keeps what it needs in locals).
    write, exit_, describe, compile_, exec_ = os.write, os._exit, wire.describe_exc, compile, exec
    counters = wire.counters
    globals_ = marshal.loads(case)
    globals_["__builtins__"] = builtins
    globals_["__name__"] = "__main__"
    sys.modules.pop("__main__", None)
    f = sys._getframe()
    while f is not None:
        if f.f_globals is not globals_:
            f.f_globals.clear()
        f = f.f_back
    del f, ctx, settings, info, case
    status, err = "ok", ""
    try:
        code = compile_(src, "<program>", "exec", dont_inherit=True)
        del src
        exec_(code, globals_)
    except SystemExit as e:
        status, err = "killed", describe(e)
    except BaseException as e:
        status, err = "error", describe(e)
    counts = ""
    try:
        got = counters(globals_)
        if got:
            counts = ",".join(map(str, got))
    except BaseException:
        pass
    try:
        stdout.flush()
    except BaseException:
        pass
    try:
        # token, status, loop counters (may be empty), error (may span lines: last)
        write(3, (token + "\n" + status + "\n" + counts + "\n" + err).encode("utf-8", "replace"))
    except BaseException:
        pass
    exit_(0)
