"""Sandbox behaviour: statuses, routing, deadlines, caps, isolation facts, worker lifecycle."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import REPO, proc_table

from engine.config import SandboxConfig
from engine.errors import InputError
from engine.sandbox import ExecResult, Sandbox

LOOP = "s = 0\nwhile True:\n    s += 1\n"
# Catches the soft timeout, so only the engine's SIGKILL ends it.
UNKILLABLE = (
    "while True:\n    try:\n        while True:\n            pass\n"
    "    except BaseException:\n        pass\n"
)


def _stats(sb: Sandbox) -> dict[str, int]:
    return sb.describe()["stats"]


def test_typical_programs_and_statuses(sb: Sandbox) -> None:
    codes = [
        "print(5+3)",
        "x = 5\ny = 3\nprint(x + y)",
        "s = 0\nfor i in range(1, 6):\n    s += i\nprint(s)",
        "def f(a, b):\n    return (a + b) / 2\nprint(f(10, 20))",
        "if 15 > 10:\n    print('Greater')",
        "print(x)",
        "print(1)\nprint(10 / 0)",
        "print('a' + 1)",
        "print(1 +",
        "import sys\nsys.exit(0)",
        "import os\nos._exit(0)",
        "raise SystemExit",
        "",
    ]
    r = sb.run_many(codes)
    assert [x.status for x in r] == [
        "ok", "ok", "ok", "ok", "ok", "error", "error", "error", "error",
        "killed", "killed", "killed", "ok",
    ]  # fmt: skip
    assert [x.stdout for x in r[:5]] == ["8\n", "8\n", "15\n", "15.0\n", "Greater\n"]
    assert r[5].error == "NameError: name 'x' is not defined"
    assert r[6].stdout == "1\n" and r[6].error == "ZeroDivisionError: division by zero"
    assert r[7].error.startswith("TypeError: can only concatenate str")
    assert r[8].error.startswith("SyntaxError: ")
    assert r[9].error == "SystemExit: 0"
    assert all(isinstance(x, ExecResult) and x.duration >= 0 for x in r)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r[0].status = "error"  # type: ignore[misc]


def test_empty_batch_and_order_in_large_batch(sb: Sandbox) -> None:
    assert sb.run_many([]) == []
    codes = [f"print({i} * 2)" for i in range(300)]
    assert [x.stdout for x in sb.run_many(codes)] == [f"{i * 2}\n" for i in range(300)]


def test_size_cap_rejects_without_compiling(sb: Sandbox) -> None:
    t0 = time.monotonic()
    r = sb.run_many(["1+" * 5_000_000 + "1", "x = 1\n" * 5000, "print(1)"])
    assert time.monotonic() - t0 < 1.0
    assert [x.status for x in r] == ["rejected", "rejected", "ok"]
    assert r[0].error.startswith("SourceTooLarge")


def test_non_string_is_rejected(sb: Sandbox) -> None:
    r = sb.run_many([b"print(1)", None, "print(2)"])  # type: ignore[list-item]
    assert [x.status for x in r] == ["rejected", "rejected", "ok"]


@pytest.mark.parametrize(
    "code,out",
    [
        ("print(type(1))", "<class 'int'>\n"),
        ("print(getattr(1, 'real'))", "1\n"),
        ("import math\nprint(math.sqrt(16))", "4.0\n"),
        ("from math import floor\nprint(floor(2.5))", "2\n"),
        ("print((1).__class__.__name__)", "int\n"),
        ("g = (i for i in range(3))\nprint(g.gi_frame is not None)", "True\n"),
        ("print('{0}'.format(7))", "7\n"),
        ("class A:\n    pass\nprint(A.__name__)", "A\n"),
        ("print(eval('1+1'))", "2\n"),
        ("def f():\n    return globals()\nprint(len(f()) > 0)", "True\n"),
        ("print(open)", "<built-in function open>\n"),
    ],
)
def test_routing_to_strict_tier(sb: Sandbox, code: str, out: str) -> None:
    before = _stats(sb)["strict"]
    r = sb.run_many([code])[0]
    assert (r.status, r.stdout) == ("ok", out)
    assert _stats(sb)["strict"] == before + 1


def test_plain_programs_stay_in_fast_tier(sb: Sandbox) -> None:
    before = _stats(sb)
    codes = [
        "def f(a, b):\n    return a * b\nprint(f(2, 3))",
        "xs = [3, 1, 2]\nxs.append(0)\nprint(sorted(xs), len(xs))",
        "d = {'a': 1}\nprint(d.get('a'), list(d.items()))",
        "print(', '.join(str(i) for i in range(3)))",
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    print('caught', e)",
        "print([x * x for x in range(4)], f'{3:>4}')",
    ]
    r = sb.run_many(codes)
    assert all(x.status == "ok" for x in r), r
    after = _stats(sb)
    assert after["strict"] == before["strict"]
    assert after["fast"] == before["fast"] + len(codes)


def test_infinite_loops_do_not_stall_the_batch(sb: Sandbox) -> None:
    codes = [f"print({i})" for i in range(100)]
    for k in (10, 50, 90):
        codes[k] = LOOP
    t0 = time.monotonic()
    r = sb.run_many(codes)
    wall = time.monotonic() - t0
    for i, x in enumerate(r):
        if i in (10, 50, 90):
            assert x.status == "timeout" and x.error.startswith("TimeoutError")
        else:
            assert (x.status, x.stdout) == ("ok", f"{i}\n")
    assert wall < 3 * 0.05 + 1.0


def test_signal_proof_loop_is_killed_and_worker_replaced(sb: Sandbox) -> None:
    before = _stats(sb)["replaced"]
    codes = ["print(1)", UNKILLABLE, "print(2)", UNKILLABLE, "print(3)"]
    t0 = time.monotonic()
    r = sb.run_many(codes)
    assert time.monotonic() - t0 < 2 * 0.1 + 1.0
    assert [x.status for x in r] == ["ok", "timeout", "ok", "timeout", "ok"]
    assert [r[0].stdout, r[2].stdout, r[4].stdout] == ["1\n", "2\n", "3\n"]
    assert _stats(sb)["replaced"] >= before + 2


def test_timeout_argument_is_per_program(sb: Sandbox) -> None:
    r = sb.run_many([LOOP, "import time\ntime.sleep(5)"], timeout=0.3)
    assert [x.status for x in r] == ["timeout", "timeout"]
    assert 0.25 <= r[0].duration < 1.0
    assert 0.25 <= r[1].duration < 1.0
    slow_ok = "s = 0\nfor i in range(300000):\n    s += i\nprint(s)"
    assert sb.run_many([slow_ok], timeout=5.0)[0].stdout == f"{sum(range(300000))}\n"
    with pytest.raises(ValueError):
        sb.run_many(["print(1)"], timeout=0)


def test_output_cap_fast_and_strict(sb: Sandbox) -> None:
    cap = sb.config.max_output
    r = sb.run_many(
        [
            "print('A' * 100000)",
            "while True:\n    print('spam')",
            "import sys\nsys.stdout.write('B' * 100000)",
            "import os\nos.write(1, b'C' * 200000)",
        ]
    )
    for x in r:
        assert len(x.stdout.encode()) <= cap
        assert x.status != "ok"
        assert "OutputLimit" in x.error or "File too large" in x.error
    assert r[0].stdout == "A" * cap


def test_memory_limit(sb: Sandbox) -> None:
    r = sb.run_many(["x = [0] * 10**10", "import math\nx = bytearray(2 * 1024**3)", "print(1)"])
    assert r[0].status == "error" and r[0].error.startswith("MemoryError")
    assert r[1].status == "error" and r[1].error.startswith("MemoryError")
    assert r[2].stdout == "1\n"


def test_programs_see_no_secrets_and_no_privileges(sb: Sandbox) -> None:
    assert os.environ.get("ALTLAS_SECRET") == "canary"
    code = (
        "import os\n"
        "print(sorted(os.environ))\n"
        "print(os.getuid() != 0, os.geteuid() != 0)\n"
        "print(os.listdir('/') if os.access('/', os.R_OK) else 'unreadable')\n"
        "for m in ('socket', 'ctypes', 'subprocess', 'threading'):\n"
        "    try:\n"
        "        __import__(m)\n"
        "        print('imported', m)\n"
        "    except ImportError:\n"
        "        pass\n"
    )
    r = sb.run_many([code])[0]
    assert r.status == "ok", r
    assert "ALTLAS_SECRET" not in r.stdout and "canary" not in r.stdout
    assert "imported" not in r.stdout
    desc = sb.describe()
    if desc["uid_drop"]:
        assert "True True\n" in r.stdout
    # The workers were started with a clean environment: nothing in their initial environ block.
    for pid in sb.processes()["fast"]:
        with open(f"/proc/{pid}/environ", "rb") as f:
            assert b"ALTLAS_SECRET" not in f.read()


def test_describe_matches_reality(sb: Sandbox) -> None:
    d = sb.describe()
    for key in ("level", "fast_tier", "strict_tier", "uid_drop", "chroot", "netns", "seccomp"):
        assert key in d
    assert d["backend"] == "process"
    pids = sb.processes()["fast_ready"]
    with open(f"/proc/{pids[0]}/status") as f:
        filtered = any(line.split() == ["Seccomp:", "2"] for line in f)
    assert d["fast_tier"]["seccomp"] == ("allow-list" if filtered else False)
    own = os.stat("/proc/self/ns/net").st_ino
    worker_ns = os.stat(f"/proc/{pids[0]}/ns/net").st_ino
    assert d["fast_tier"]["netns"] == (worker_ns != own)
    with open(f"/proc/{pids[0]}/status") as f:
        uid = int(next(line for line in f if line.startswith("Uid:")).split()[1])
    assert d["fast_tier"]["uid_drop"] == (uid != 0)
    if os.geteuid() == 0:  # network namespaces may still be refused (e.g. docker's seccomp)
        assert d["uid_drop"] and d["chroot"]
        assert d["level"] == ("full" if d["netns"] else "partial")


def test_worker_killed_between_batches_is_replaced(sb: Sandbox) -> None:
    for pid in sb.processes()["fast"][:1]:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.05)
    r = sb.run_many([f"print({i})" for i in range(20)])
    assert [x.stdout for x in r] == [f"{i}\n" for i in range(20)]


def test_worker_dying_mid_batch_blames_one_program(sb: Sandbox) -> None:
    pids = sb.processes()["fast"]

    def kill_all() -> None:  # whichever worker runs the loop, it dies at 0.3 s
        for pid in pids:
            os.kill(pid, signal.SIGKILL)

    killer = threading.Timer(0.3, kill_all)
    killer.start()
    r = sb.run_many(["print(0)", LOOP, "print(2)"], timeout=3.0)
    killer.join()
    assert r[0].stdout == "0\n" and r[2].stdout == "2\n"
    assert r[1].status == "killed" and "SIGKILL" in r[1].error


def test_recycling(secret_env: None) -> None:
    with Sandbox(SandboxConfig(recycle_every=10, workers=2)) as box:
        first = set(box.processes()["fast"])
        for k in range(4):
            r = box.run_many([f"print({k} + {i})" for i in range(8)])
            assert [x.stdout for x in r] == [f"{k + i}\n" for i in range(8)]
        assert box.describe()["stats"]["recycled"] >= 1
        assert set(box.processes()["fast"]) != first


def test_concurrent_callers_get_their_own_results(sb: Sandbox) -> None:
    out: dict[int, list[str]] = {}

    def work(k: int) -> None:
        out[k] = [x.stdout for x in sb.run_many([f"print({k} * 1000 + {i})" for i in range(50)])]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(3):
        assert out[k] == [f"{k * 1000 + i}\n" for i in range(50)]


def test_bad_config_is_input_error() -> None:
    with pytest.raises(InputError):
        Sandbox(SandboxConfig(workers=0))
    with pytest.raises(InputError):
        Sandbox(SandboxConfig(timeout=0))
    with pytest.raises(InputError):
        Sandbox(SandboxConfig(backend="docker"))


def test_no_processes_survive_close(secret_env: None) -> None:
    box = Sandbox()
    box.run_many(["print(1)", "import math\nprint(2)", LOOP])
    info = box.processes()
    pids = set(info["fast"]) | {info["zygote"]}
    box.close()
    table = proc_table()
    assert not pids & set(table)
    if info["uids"]:
        lo, hi = info["uids"]
        assert not [p for p, (_, uid) in table.items() if lo <= uid < hi]
    assert not os.path.exists(info["root_dir"])


ENGINE = """
import json, os, sys, threading
sys.path.insert(0, {repo!r})
from engine.sandbox import Sandbox
sb = Sandbox()
sb.start()
info = sb.processes()
print(json.dumps(info), flush=True)
sb.run_many([{code!r}], timeout=60)
"""


@pytest.mark.parametrize("code", [UNKILLABLE, "import time\ntime.sleep(60)"])
def test_engine_death_takes_workers_down(code: str) -> None:
    """SIGKILL the engine mid-program: no sandbox process may outlive it."""
    script = ENGINE.format(repo=str(REPO), code=code)
    eng = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(eng.stdout.readline())
        time.sleep(0.5)  # the program is running now
        eng.kill()
        eng.wait()
        pids = set(info["fast"]) | {info["zygote"]}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            table = proc_table()
            left = pids & set(table)
            if info["uids"]:
                lo, hi = info["uids"]
                left |= {p for p, (_, uid) in table.items() if lo <= uid < hi}
            if not left:
                break
            time.sleep(0.05)
        assert not left, f"survivors after engine death: {left}"
    finally:
        if "info" in locals() and info.get("root_dir"):
            shutil.rmtree(info["root_dir"], ignore_errors=True)
        eng.kill()
        eng.wait()


@pytest.mark.parametrize(
    "code",
    [
        "x = " + "-" * 19000 + "1",
        "x = " + "not " * 4900 + "1",
        "x = " + "(" * 1000 + "1" + ")" * 1000,
        "x = " + "[" * 5000 + "]" * 5000,
        "print(" + "+".join(["1"] * 6000) + ")",
        "print('\\ud800')",
        "x = '\\x00'\nprint(x)",
        "x = 1\x00",
    ],
)
def test_pathological_sources_never_break_the_sandbox(sb: Sandbox, code: str) -> None:
    r = sb.run_many([code, "print(6*7)"])
    assert r[0].status in ("ok", "error", "killed", "timeout")
    assert r[1].stdout == "42\n"
    assert sb.run_many(["print(6*7)"])[0].stdout == "42\n"


def test_fast_tier_escape_attempts_are_routed_or_contained(sb: Sandbox) -> None:
    """Plain-looking escapes: none may reach frames, globals or the worker's modules."""
    attempts = [
        "def g():\n    yield 1\nx = g()\nnext(x)\nprint(x.gi_frame.f_back)",
        "try:\n    1/0\nexcept Exception as e:\n    print(e.with_traceback(None).args)",
        "print(print.__self__)",
        "print('{0.__class__.__mro__}'.format(1))",
        "print(vars())",
        "print(dir())",
        "async def c():\n    pass\nx = c()\nprint(x.cr_frame.f_back)",
        "b = __builtins__\nprint(b)",
        "f = lambda: 0\nprint(f.__globals__)",
        "match 5:\n    case int(__class__=c):\n        print(c)",
    ]
    before = sb.describe()["stats"]["strict"]
    r = sb.run_many(attempts)
    # everything that names a frame, a dunder or an introspection builtin left the fast tier
    assert sb.describe()["stats"]["strict"] - before == len(attempts) - 1
    assert r[1].stdout == "('division by zero',)\n"
    for x in r:
        assert "_sandbox_worker" not in x.stdout and "cmd_fd" not in x.stdout
    assert sb.run_many(["print(sorted([2, 1]))"])[0].stdout == "[1, 2]\n"


def test_workers_outlive_the_thread_that_started_them(secret_env: None) -> None:
    """PR_SET_PDEATHSIG follows the forking thread: workers must not die with a caller thread."""
    holder: list[Sandbox] = []

    def start() -> None:
        box = Sandbox()
        box.run_many([UNKILLABLE])  # also replaces a worker from inside this thread
        holder.append(box)

    t = threading.Thread(target=start)
    t.start()
    t.join()
    box = holder[0]
    try:
        time.sleep(0.3)
        table = proc_table()
        assert set(box.processes()["fast"]) <= set(table)
        before = box.describe()["stats"]["replaced"]
        assert [x.stdout for x in box.run_many([f"print({i})" for i in range(10)])] == [
            f"{i}\n" for i in range(10)
        ]
        assert box.describe()["stats"]["replaced"] == before
    finally:
        box.close()


def test_sprayed_fake_records_do_not_pass(sb: Sandbox) -> None:
    """A program that writes a success record to every descriptor and exits 0 is not 'ok'."""
    code = (
        "import os\n"
        "for fd in range(0, 64):\n"
        "    for rec in (b'ok\\n', b'ok', b'ok\\n\\n', b'{\"status\": \"ok\"}'):\n"
        "        try:\n"
        "            os.write(fd, rec)\n"
        "        except OSError:\n"
        "            pass\n"
        "os._exit(0)\n"
    )
    r = sb.run_many([code])[0]
    assert r.status == "killed"


def test_strict_program_cannot_read_its_batch_mates(sb: Sandbox) -> None:
    spy = (
        "import gc\n"
        "needle = ''.join(['SECRET', '_SIBLING'])\n"  # built at run time, not a constant
        "hits = [o for o in gc.get_objects() if isinstance(o, (list, tuple))\n"
        "        and any(isinstance(x, str) and needle in x for x in o)]\n"
        "print(len(hits))\n"
    )
    sibling = "import math\nprint('SECRET_SIBLING')"
    r = sb.run_many([sibling, spy, sibling])
    assert r[0].stdout == "SECRET_SIBLING\n"
    assert r[1].stdout == "0\n"


def test_inprocess_backend_for_other_modules_tests() -> None:
    """The in-process backend (no isolation, tests of other modules only) keeps the statuses."""
    with Sandbox(SandboxConfig(backend="inprocess", timeout=0.2)) as box:
        r = box.run_many(["print(5+3)", "print(x)", "while True:\n    pass", "raise SystemExit(0)"])
        assert [x.status for x in r] == ["ok", "error", "timeout", "killed"]
        assert r[0].stdout == "8\n" and r[1].error == "NameError: name 'x' is not defined"
        assert box.describe()["level"] == "none"


def test_engine_never_compiles_programs(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compilation happens in the sandbox processes only."""
    import builtins

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine compiled a program")

    monkeypatch.setattr(builtins, "compile", refuse)
    r = sb.run_many(["print(5+3)", "import math\nprint(math.floor(2.5))", "print(1 +"])
    assert [x.status for x in r] == ["ok", "ok", "error"]


def test_module_entry_prints_describe() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "engine.sandbox", "--describe"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=True,
    ).stdout
    assert json.loads(out)["backend"] == "process"


def test_fast_tier_finalizers_cannot_write_into_later_programs(sb: Sandbox) -> None:
    """A generator kept alive by a reference cycle runs its `finally` when collected; that must
    happen before the next program starts, not in the middle of it."""
    late = (
        "def g():\n"
        "    try:\n"
        "        yield 1\n"
        "    finally:\n"
        "        print('FORGED')\n"
        "keep = []\n"
        "x = g()\n"
        "next(x)\n"
        "keep.append(keep)\n"
        "keep.append(x)\n"
        "print('mine')\n"
    )
    filler = "s = []\nfor i in range(3000):\n    s.append([i])\nprint(len(s))"
    r = sb.run_many([late] + [filler] * 30)
    # Collected at the end of its own program, as plain Python does at exit: blamed on it.
    assert r[0].stdout == "mine\nFORGED\n"
    assert all(x.stdout == "3000\n" for x in r[1:]), [x.stdout for x in r[1:] if "F" in x.stdout]


@pytest.mark.parametrize(
    "payload",
    [b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe", b"not json", b"[1, 2"],
)
def test_garbage_from_a_worker_marks_it_dead(payload: bytes) -> None:
    """Only a subverted worker sends such bytes; the engine must not raise or trust them."""
    from engine.sandbox.procs import Worker as _Worker
    from engine.sandbox.protocol import valid as _valid

    w = _Worker.__new__(_Worker)
    r, wfd = os.pipe()
    w.res_r, w.buf, w.dead = r, bytearray(), False
    try:
        os.write(wfd, len(payload).to_bytes(4, "little"))
        threading.Thread(target=os.write, args=(wfd, payload), daemon=True).start()
        msgs: list | None = []
        while msgs == [] and not w.dead:
            msgs = w.read_messages()
        assert msgs is None and w.dead
    finally:
        os.close(r)
        os.close(wfd)
    assert not _valid("ok", 1, "", 0.0)
    assert not _valid("pwned", "", "", 0.0)
    assert _valid("ok", "", "", 0)
