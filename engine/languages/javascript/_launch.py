"""Start one node sandbox worker behind every isolation layer the machine allows, then exec node.

Run as `python -I -S _launch.py '<json settings>'` (stdlib only, importable on its own). The engine
never forks itself into this: the engine may hold threads (torch), and only async-signal-safe work
is allowed between fork and exec. Order matters: namespaces and the seccomp library are set up
while still root and outside the chroot; rlimits, chroot and the uid drop follow; the seccomp filter
is the last step before `execve`, which the filter allows only for this very call (its path pointer).

Settings: node (path inside the root), script, args, root (a directory holding node, its libraries
and the script, or null for no chroot), uid/gid (null: keep), memory_mb, nofile, nproc, seccomp.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import resource
import signal
import sys

CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
CLONE_THREAD = 0x00010000
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
AF_UNIX = 1
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_NE = 1
SCMP_CMP_MASKED_EQ = 7

# Syscalls a JavaScript worker never needs (node, V8 and libuv run without them; checked by the
# tests): process creation, other processes' memory, namespaces and mounts, keyrings, SysV and
# POSIX IPC, kernel modules, BPF, perf, io_uring, real-time scheduling.
DENIED = (
    "execveat", "fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev",
    "keyctl", "add_key", "request_key", "unshare", "setns", "mount", "umount2", "pivot_root",
    "chroot", "bpf", "perf_event_open", "userfaultfd", "shmget", "shmat", "shmctl", "shmdt",
    "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semctl", "semtimedop",
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct",
    "quotactl", "name_to_handle_at", "open_by_handle_at", "sched_setscheduler",
    "sched_setattr", "personality", "memfd_create", "setuid", "setgid", "setreuid",
    "setregid", "setresuid", "setresgid", "setgroups", "capset", "settimeofday",
    "clock_settime", "adjtimex", "sethostname", "setdomainname", "syslog", "vhangup",
)  # fmt: skip


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _errno_action(err: int) -> int:
    return 0x00050000 | (err & 0xFFFF)


def _load_seccomp() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp),
    ]  # fmt: skip
    lib.seccomp_load.restype = ctypes.c_int
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    return lib


def _seccomp_filter(lib: ctypes.CDLL, exec_path_ptr: int) -> None:
    """Install the deny-list filter (default allow). Raises OSError if it cannot be loaded."""
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise OSError("seccomp_init failed")
    eperm = _errno_action(1)
    pid = os.getpid()

    def rule(action: int, name: str, *cmps: tuple[int, int, int, int]) -> None:
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:  # unknown on this architecture
            return
        arr = (_ArgCmp * max(1, len(cmps)))(*[_ArgCmp(*c) for c in cmps])
        rc = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), arr)
        if rc < 0:
            raise OSError(-rc, f"seccomp rule for {name}")

    for name in DENIED:
        rule(eperm, name)
    rule(_errno_action(38), "clone3")  # ENOSYS: glibc then falls back to clone for threads
    rule(eperm, "clone", (0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0))  # no new processes
    rule(eperm, "execve", (0, SCMP_CMP_NE, exec_path_ptr, 0))  # only the exec below
    rule(eperm, "socket", (0, SCMP_CMP_NE, AF_UNIX, 0))
    rule(eperm, "kill", (0, SCMP_CMP_NE, pid, 0))  # signals to itself only
    rule(eperm, "tgkill", (0, SCMP_CMP_NE, pid, 0))
    rule(eperm, "tkill")
    rc = lib.seccomp_load(ctx)
    if rc < 0:
        raise OSError(-rc, "seccomp_load")


def main() -> None:
    s = json.loads(sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    seccomp = _load_seccomp() if s.get("seccomp") else None
    if s.get("namespaces"):
        for flag in (CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS):
            libc.unshare(flag)  # each on its own: one missing kind does not cost the others
    marker = s.get("marker_fd")
    if marker is not None:  # the worker writes its marker to fd 3
        if marker != 3:
            os.dup2(marker, 3, inheritable=True)
            os.close(marker)
        else:
            os.set_inheritable(3, True)
    mem = int(s["memory_mb"]) * 1024 * 1024
    # V8 reserves over 1 GB of address space up front; the JS heap itself is capped by node's --max-old-space-size, so the
    # address-space limit only bounds what lies outside it (array buffers, native memory).
    limits = {
        resource.RLIMIT_AS: mem + 2048 * 1024 * 1024,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_FSIZE: 4096,  # the 16-byte marker file; nothing else is writable
        resource.RLIMIT_NOFILE: int(s["nofile"]),
        resource.RLIMIT_NPROC: int(s["nproc"]),
    }
    if hasattr(resource, "RLIMIT_RTPRIO"):
        limits[resource.RLIMIT_RTPRIO] = 0
    if hasattr(resource, "RLIMIT_MSGQUEUE"):
        limits[resource.RLIMIT_MSGQUEUE] = 0
    for what, value in limits.items():
        try:
            resource.setrlimit(what, (value, value))
        except (ValueError, OSError):
            pass
    root = s.get("root")
    if root:
        os.chroot(root)
        os.chdir("/")
    if s.get("uid") is not None:
        gid = int(s["gid"])
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(int(s["uid"]), int(s["uid"]), int(s["uid"]))
    # After the uid change (which clears it): die with the thread that started us.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the engine is already gone
        os._exit(1)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    path = ctypes.create_string_buffer(s["node"].encode())
    argv_list = [s["node"].encode(), *[a.encode() for a in s["args"]], s["script"].encode()]
    argv = (ctypes.c_char_p * (len(argv_list) + 1))(*argv_list, None)
    envp = (ctypes.c_char_p * 2)(b"LC_ALL=C.UTF-8", None)
    if seccomp is not None:
        _seccomp_filter(seccomp, ctypes.addressof(path))
    libc.execve(path, argv, envp)
    os.write(2, f"launch: execve failed: errno {ctypes.get_errno()}\n".encode())
    os._exit(127)


if __name__ == "__main__":
    main()
