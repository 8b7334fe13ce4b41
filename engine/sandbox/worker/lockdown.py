"""Isolation layers a sandbox process applies to itself (worker side, standard library only).

Order matters and is the same in both tiers: rlimits -> chroot + uid drop -> prctl flags and a
fresh session keyring -> seccomp filter (last: it forbids the calls the steps before need).
Every step records what it achieved in `info`, which the engine turns into `describe()`.
"""

import os
import resource
import signal

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2
KEYCTL_JOIN_SESSION_KEYRING = 1


def netns_id():
    """Inode of this process's network namespace (compared with the engine's)."""
    try:
        return os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return None


def ns_ids():
    """Inodes of the ipc/uts/user namespaces (the engine compares them with its own)."""
    out = {}
    for ns in ("ipc", "uts", "user", "pid"):
        try:
            out[ns] = os.stat(f"/proc/self/ns/{ns}").st_ino
        except OSError:
            out[ns] = None
    return out


def limit(res, value):
    """Set both soft and hard limit; False if the OS refused."""
    try:
        resource.setrlimit(res, (value, value))
        return True
    except (ValueError, OSError):
        return False


def set_rlimits(memory_mb, fsize, cpu=None, nproc=False):
    """The rlimits of a sandbox process; returns {name: applied}."""
    mem = memory_mb * 1024 * 1024
    got = {
        "AS": limit(resource.RLIMIT_AS, mem),
        "FSIZE": limit(resource.RLIMIT_FSIZE, fsize),
        "NOFILE": limit(resource.RLIMIT_NOFILE, 16),
        "CORE": limit(resource.RLIMIT_CORE, 0),
        # No real-time scheduling: a SCHED_FIFO spinner would starve the host's cores.
        "RTPRIO": limit(resource.RLIMIT_RTPRIO, 0),
        "MEMLOCK": limit(resource.RLIMIT_MEMLOCK, 0),
        "MSGQUEUE": limit(resource.RLIMIT_MSGQUEUE, 0),
    }
    if cpu is not None:
        got["CPU"] = limit(resource.RLIMIT_CPU, cpu)
    if nproc:
        got["NPROC"] = limit(resource.RLIMIT_NPROC, 1)
    return got


def drop_privileges(settings, info):
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


def process_flags(libc, settings, info):
    """After the uid change (which clears PDEATHSIG): die with the engine, never gain
    privileges, no ptrace or /proc access by the same uid, a fresh empty session keyring."""
    info["pdeathsig"] = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    info["no_new_privs"] = libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    nr = settings.get("keyctl_nr")
    info["session_keyring"] = False
    if nr is not None:
        # A new anonymous session keyring: the engine's (inherited) is no longer reachable.
        info["session_keyring"] = libc.syscall(nr, KEYCTL_JOIN_SESSION_KEYRING, None) >= 0


def install_seccomp(ctypes, libc, bpf, info):
    """Load a classic-BPF seccomp filter (built by the engine with libseccomp). `bpf` is the raw
    program: 8-byte `struct sock_filter` records. Needs no_new_privs (set before)."""
    info["seccomp"] = False
    if not bpf or len(bpf) % 8:
        return False

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buf = ctypes.create_string_buffer(bpf, len(bpf))
    prog = SockFprog(len(bpf) // 8, ctypes.cast(buf, ctypes.c_void_p))
    rc = libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0)
    info["seccomp"] = rc == 0
    return rc == 0
