"""Each isolation layer on its own: the seccomp filters (loaded into a throw-away process),
the uid pool, and start-up failure handling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import SandboxConfig
from engine.sandbox import Sandbox, SandboxError, layers
from engine.sandbox.procs import UidPool

pytestmark = pytest.mark.skipif(layers.libseccomp() is None, reason="libseccomp.so.2 missing")

# Loads the filter given as hex on argv[1], then tries syscalls by name; prints name -> errno.
PROBE = r"""
import ctypes, json, os, sys
sys.path.insert(0, sys.argv[3])
import lockdown
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(38, 1, 0, 0, 0)
info = {}
assert lockdown.install_seccomp(ctypes, libc, bytes.fromhex(sys.argv[1]), info)
out = {}
for name, nr, args in json.loads(sys.argv[2]):
    ctypes.set_errno(0)
    rc = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
    out[name] = 0 if rc >= 0 else ctypes.get_errno()
print(json.dumps(out))
"""


def _probe(bpf: bytes, calls: list[tuple[str, list[int]]]) -> dict[str, int]:
    spec = [(n, layers.syscall_nr(n), a) for n, a in calls if layers.syscall_nr(n) is not None]
    worker_dir = str(Path(layers.__file__).with_name("worker"))
    out = subprocess.run(
        [sys.executable, "-I", "-c", PROBE, bpf.hex(), json.dumps(spec), worker_dir],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return json.loads(out)


AF_UNIX, AF_INET, AF_VSOCK, SOCK_STREAM = 1, 2, 40, 1
IPC_PRIVATE, IPC_CREAT = 0, 0o1000
CLONE_NEWUSER = 0x10000000
EPERM, ENOSYS = 1, 38
# Seconds inside one C call (big-int power): no signal handler runs, only SIGKILL ends it.
C_LOOP = "n = 10**8\nx = 3 ** n\n"


def test_strict_filter_denies_each_class() -> None:
    bpf = layers.strict_filter()
    assert bpf
    got = _probe(
        bpf,
        [
            ("shmget", [IPC_PRIVATE, 1 << 20, IPC_CREAT | 0o600]),
            ("msgget", [IPC_PRIVATE, IPC_CREAT | 0o600]),
            ("semget", [IPC_PRIVATE, 1, IPC_CREAT | 0o600]),
            ("mq_open", [0, 0, 0, 0]),
            ("keyctl", [1, 0]),  # KEYCTL_JOIN_SESSION_KEYRING
            ("add_key", [0, 0, 0, 0, 0]),
            ("request_key", [0, 0, 0, 0]),
            ("unshare", [CLONE_NEWUSER]),
            ("setns", [0, 0]),
            ("ptrace", [0, 0, 0, 0]),
            ("sched_setscheduler", [0, 1, 0]),
            ("execve", [0, 0, 0]),
            ("execveat", [0, 0, 0, 0, 0]),
            ("socket", [AF_INET, SOCK_STREAM, 0]),
            ("socket", [AF_VSOCK, SOCK_STREAM, 0]),
            ("clone3", [0, 0]),
            ("clone", [CLONE_NEWUSER | 17, 0, 0, 0, 0]),
        ],
    )
    expected = {name: EPERM for name in got}
    expected["clone3"] = ENOSYS  # so the C library falls back to clone, whose flags are checked
    assert got == expected


def test_strict_filter_allows_what_programs_need() -> None:
    got = _probe(
        layers.strict_filter() or b"",
        [("getpid", []), ("socket", [AF_UNIX, SOCK_STREAM, 0]), ("getuid", [])],
    )
    assert got == {"getpid": 0, "socket": 0, "getuid": 0}


def test_fast_filter_is_an_allow_list() -> None:
    bpf = layers.fast_filter()
    assert bpf
    got = _probe(
        bpf,
        [
            ("getpid", []),
            ("openat", [-100, 0, 0]),
            ("socket", [AF_UNIX, SOCK_STREAM, 0]),
            ("clone", [17, 0, 0, 0, 0]),
            ("kill", [0, 0]),
            ("memfd_create", [0, 0]),
            ("shmget", [IPC_PRIVATE, 4096, IPC_CREAT | 0o600]),
        ],
    )
    assert got == {
        "getpid": 0, "openat": EPERM, "socket": EPERM, "clone": EPERM, "kill": EPERM,
        "memfd_create": EPERM, "shmget": EPERM,
    }  # fmt: skip


def test_uid_pool_is_fifo_and_never_hands_out_a_taken_uid() -> None:
    pool = UidPool(1000, 1004)
    a, b = pool.take(), pool.take()
    pool.give(a)
    assert [pool.take(), pool.take(), pool.take()] == [1002, 1003, a]
    with pytest.raises(SandboxError, match="no free uid"):
        pool.take()
    assert b == 1001


def test_worker_start_failures_are_retried_then_reported_in_one_line(secret_env: None) -> None:
    with Sandbox(SandboxConfig(workers=1)) as sb:
        be = sb._backend
        good = be.fast_prefix
        be.fast_prefix = ["/bin/false"]
        try:
            for w in list(be.pool):  # every fast worker: the sandbox is truly unusable
                be._retire(w)
            with pytest.raises(SandboxError) as ei:
                sb.run_many(["print(1)"] * 50)
        finally:
            be.fast_prefix = good
        msg = str(ei.value)
        assert "\n" not in msg and "failed to start 8 times in a row" in msg, msg
        # Transient failures: three bad starts, then the machine recovers.
        be.start_failures = 0
        be.fast_prefix = ["/bin/false"]
        for w in list(be.pool):
            be._retire(w)
        calls = []

        def heal(*_: object) -> None:
            calls.append(1)
            if len(calls) >= 3:
                be.fast_prefix = good

        orig = be._failed
        be._failed = lambda what, reason: (orig(what, reason), heal())  # type: ignore[method-assign]
        r = sb.run_many([f"print({i})" for i in range(20)])
        assert [x.stdout for x in r] == [f"{i}\n" for i in range(20)]
        assert be.stats["start_failures"] >= 8 + 3


def test_describe_says_when_seccomp_is_missing(
    secret_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(layers, "fast_filter", lambda: None)
    monkeypatch.setattr(layers, "strict_filter", lambda: None)
    with Sandbox() as sb:
        d = sb.describe()
        assert d["seccomp"] is False and d["level"] != "full"
        assert any("seccomp" in m for m in d["missing"]) and "no seccomp" in d["summary"]
        assert sb.run_many(["print(1)"])[0].stdout == "1\n"


def test_interrupted_batch_leaves_no_busy_worker_behind(secret_env: None) -> None:
    """A batch interrupted mid-way (here by KeyboardInterrupt from a poll) must not leave
    workers answering it late into the next batch (which would blame innocent programs)."""
    with Sandbox(SandboxConfig(workers=1, timeout=1.0)) as sb:
        be = sb._backend
        orig = be._poll_ready
        calls = []

        def interrupt(block: bool) -> None:
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
            orig(block)

        be._poll_ready = interrupt  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            sb.run_many([C_LOOP] * 3 + ["print(1)"] * 10)
        be._poll_ready = orig  # type: ignore[method-assign]
        r = sb.run_many([f"print({i})" for i in range(30)])
        assert [(x.status, x.stdout) for x in r] == [("ok", f"{i}\n") for i in range(30)]
