"""Isolation layers, engine side: what this machine offers and how each layer is configured.

Namespaces come from `unshare` (util-linux), uids from a block no account uses, seccomp filters
are compiled here with libseccomp (through ctypes: no Python dependency, and libseccomp resolves
syscall numbers and the architecture check for whatever machine this is) and handed to the
sandbox processes as raw BPF, which they load with one prctl. Where a layer cannot exist the
functions return None/False and `describe()` says so.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

CLEAN_ENV = {"LC_ALL": "C.UTF-8"}
ROOT_PREFIX = "altlas_sandbox_root_"
UID_BLOCK = 1024  # uids per Sandbox: never reused while this Sandbox lives (see procs.UidPool)

_probe_cache: dict[tuple[str, ...], bool] = {}


def unshare_ok(args: tuple[str, ...]) -> bool:
    """Whether `unshare ARGS true` works here (cached per process)."""
    if args not in _probe_cache:
        exe = shutil.which("unshare")
        ok = False
        if exe:
            try:
                ok = (
                    subprocess.run(
                        [exe, *args, "true"],
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        timeout=5,
                        env=CLEAN_ENV,
                    ).returncode
                    == 0
                )
            except (OSError, subprocess.SubprocessError):
                ok = False
        _probe_cache[args] = ok
    return _probe_cache[args]


def prefixes(is_root: bool) -> tuple[list[str], list[str]]:
    """`unshare` command prefixes for fast workers and the zygote: the most namespaces that
    work here (net+ipc+uts for both, pid for the zygote; user when not root)."""
    exe = shutil.which("unshare")
    if not exe:
        return [], []
    fast: list[str] = []
    if is_root:
        for args in (("--net", "--ipc", "--uts"), ("--net",)):
            if unshare_ok(args):
                fast = [exe, *args]
                break
    zyg: list[str] = []
    base = ("--net", "--pid", "--fork", "--kill-child")
    user = () if is_root else ("--user", "--map-root-user")
    for extra in (("--ipc", "--uts"), ()):
        args = (*user, *base, *extra)
        if unshare_ok(args):
            zyg = [exe, *args]
            break
    return fast, zyg


def uid_range() -> tuple[int, int]:
    """A block of UID_BLOCK uids owned by no account, for this Sandbox's processes."""
    try:
        with open("/proc/self/uid_map") as f:
            first = f.read().split()
        inside, count = int(first[0]), int(first[2])
    except (OSError, ValueError, IndexError):
        inside, count = 0, 65536
    lo, hi = 200_000, 2_000_000_000
    if inside > lo or inside + count < hi:
        # A narrow user namespace: fall back to the top of the mapped range.
        top = inside + count - 2
        return top - UID_BLOCK, top
    used = {p.pw_uid for p in _passwd()}
    while True:
        base = lo + int.from_bytes(os.urandom(4), "little") % (hi - lo)
        base -= base % UID_BLOCK
        if not any(base <= u < base + UID_BLOCK for u in used):
            return base, base + UID_BLOCK


def _passwd() -> list[Any]:
    try:
        import pwd

        return pwd.getpwall()
    except (ImportError, OSError):
        return []


def make_root() -> str:
    """The empty directory sandbox processes chroot into (mode 0711, named after our pid)."""
    remove_stale_roots()
    root = tempfile.mkdtemp(prefix=f"{ROOT_PREFIX}{os.getpid()}_")
    os.chmod(root, 0o711)
    return root


def remove_stale_roots() -> None:
    """Remove the empty chroot directories of engines that died without closing their Sandbox."""
    tmp = Path(tempfile.gettempdir())
    for d in tmp.glob(f"{ROOT_PREFIX}*_*"):
        pid = d.name[len(ROOT_PREFIX) :].split("_", 1)[0]
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        try:
            d.rmdir()  # only ever empty: nothing can write into it
        except OSError:
            pass


def own_netns() -> int | None:
    """Inode of the engine's network namespace."""
    try:
        return os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return None


def own_ns() -> dict[str, int | None]:
    """Inodes of the engine's ipc/uts/user/pid namespaces."""
    out: dict[str, int | None] = {}
    for ns in ("ipc", "uts", "user", "pid"):
        try:
            out[ns] = os.stat(f"/proc/self/ns/{ns}").st_ino
        except OSError:
            out[ns] = None
    return out


# ---------------------------------------------------------------------------------------------
# seccomp
# ---------------------------------------------------------------------------------------------

# Fast tier: an allow-list. After lock-down a fast worker only reads its command pipe, writes its
# result pipe, manages memory, handles its alarm signal, reads clocks and exits. Anything else
# fails with EPERM (not a kill: a harmless unexpected call costs an exception, not a worker).
FAST_ALLOW = (
    "read write readv writev close lseek fstat newfstatat statx "
    "mmap munmap mremap brk madvise mprotect "
    "rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack setitimer getitimer alarm "
    "clock_gettime clock_getres gettimeofday time getpid gettid getppid getuid geteuid "
    "getgid getegid getrandom futex sched_yield exit exit_group restart_syscall "
    "poll ppoll select pselect6 getrusage times"
).split()

# Strict tier: a deny-list on the zygote (its children inherit it and cannot remove it). Running
# other programs, System V / POSIX IPC (state that outlives a program and host memory that
# outlives the Sandbox), keyrings, new namespaces, tracing, real-time scheduling, and kernel
# interfaces a program has no use for.
STRICT_DENY = (
    "execve execveat "
    "shmget shmat shmdt shmctl msgget msgsnd msgrcv msgctl semget semop semtimedop semctl "
    "mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr "
    "keyctl add_key request_key "
    "unshare setns mount umount2 pivot_root fsopen fsmount fsconfig move_mount open_tree "
    "ptrace process_vm_readv process_vm_writev kcmp pidfd_getfd "
    "sched_setscheduler sched_setparam sched_setattr "
    "bpf perf_event_open userfaultfd io_uring_setup io_uring_enter io_uring_register "
    "kexec_load kexec_file_load init_module finit_module delete_module "
    "personality acct swapon swapoff reboot syslog quotactl "
    "fanotify_init open_by_handle_at name_to_handle_at add_key "
    "iopl ioperm modify_ldt vhangup lookup_dcookie "
    "mbind migrate_pages move_pages set_mempolicy"
).split()

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_NE = 1
SCMP_CMP_MASKED_EQ = 7
EPERM, ENOSYS = 1, 38
AF_UNIX = 1
CLONE_NS_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
    0x00000080,  # CLONE_NEWTIME
)


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _errno(e: int) -> int:
    return 0x00050000 | (e & 0xFFFF)


def _lib() -> Any:
    try:
        lib = ctypes.CDLL("libseccomp.so.2")
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp),
    ]  # fmt: skip
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    return lib


SCMP_FLTATR_CTL_OPTIMIZE = 8


def _init(lib: Any, default: int) -> Any:
    """A filter context; syscalls sorted into a binary tree (libseccomp >= 2.5) so an allowed
    call costs a few comparisons, not a walk down the whole list."""
    ctx = lib.seccomp_init(default)
    if ctx:
        lib.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)  # older libseccomp: ignored
    return ctx


_lib_cache: list[Any] = []


def libseccomp() -> Any:
    """The libseccomp library, or None when it is not installed."""
    if not _lib_cache:
        _lib_cache.append(_lib())
    return _lib_cache[0]


def syscall_nr(name: str) -> int | None:
    """The native syscall number of `name` (None when unknown or libseccomp is missing)."""
    lib = libseccomp()
    if lib is None:
        return None
    nr = lib.seccomp_syscall_resolve_name(name.encode())
    return nr if nr >= 0 else None


def _export(ctx: int, lib: Any) -> bytes:
    fd = os.memfd_create("altlas_bpf")
    try:
        if lib.seccomp_export_bpf(ctx, fd) != 0:
            raise OSError("seccomp_export_bpf failed")
        size = os.fstat(fd).st_size
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)


def _rule(lib: Any, ctx: int, action: int, name: str, *cmps: tuple[int, int, int, int]) -> None:
    nr = lib.seccomp_syscall_resolve_name(name.encode())
    if nr < 0:
        return  # not a syscall on this architecture (e.g. `alarm` on arm64)
    arr = (_ArgCmp * max(1, len(cmps)))(*[_ArgCmp(*c) for c in cmps])
    if lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), arr) != 0:
        raise OSError(f"seccomp rule for {name} rejected")


def fast_filter() -> bytes | None:
    """BPF for fast workers: allow FAST_ALLOW, EPERM for everything else."""
    lib = libseccomp()
    if lib is None:
        return None
    ctx = _init(lib, _errno(EPERM))
    if not ctx:
        return None
    try:
        for name in FAST_ALLOW:
            _rule(lib, ctx, SCMP_ACT_ALLOW, name)
        return _export(ctx, lib)
    except OSError:
        return None
    finally:
        lib.seccomp_release(ctx)


def strict_filter() -> bytes | None:
    """BPF for the zygote and its children: allow by default, deny STRICT_DENY, sockets other
    than AF_UNIX, clone with namespace flags, and clone3 (whose flags a filter cannot read;
    ENOSYS makes the C library fall back to clone)."""
    lib = libseccomp()
    if lib is None:
        return None
    ctx = _init(lib, SCMP_ACT_ALLOW)
    if not ctx:
        return None
    try:
        deny = _errno(EPERM)
        for name in dict.fromkeys(STRICT_DENY):
            _rule(lib, ctx, deny, name)
        for name in ("socket", "socketpair"):
            _rule(lib, ctx, deny, name, (0, SCMP_CMP_NE, AF_UNIX, 0))
        for flag in CLONE_NS_FLAGS:
            _rule(lib, ctx, deny, "clone", (0, SCMP_CMP_MASKED_EQ, flag, flag))
        _rule(lib, ctx, _errno(ENOSYS), "clone3")
        return _export(ctx, lib)
    except OSError:
        return None
    finally:
        lib.seccomp_release(ctx)
