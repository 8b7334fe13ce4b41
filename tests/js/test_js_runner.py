"""The node runner: statuses, output format, cases, rejected input, worker replacement."""

from __future__ import annotations

import os
import signal

import pytest

from engine.config import SandboxConfig
from engine.languages.javascript import JSRunner
from engine.languages.javascript.runner import find_node

pytestmark = pytest.mark.skipif(find_node() is None, reason="node is not installed")


def test_ok_and_stdout(js: JSRunner) -> None:
    [r] = js.run_many(["let x = 5;\nlet y = 3;\nconsole.log(x + y);"])
    assert (r.status, r.stdout, r.error) == ("ok", "8\n", "")
    assert 0 <= r.duration < 1


@pytest.mark.parametrize(
    ("code", "stdout"),
    [
        ("console.log('hello' + 'world')", "helloworld\n"),
        ("console.log(1, 'a', true, null, undefined)", "1 a true null undefined\n"),
        ("console.log([1, 2, 'a'])", "[ 1, 2, 'a' ]\n"),
        ("console.log({a: 1, b: [2]})", "{ a: 1, b: [ 2 ] }\n"),
        ("console.log([])", "[]\n"),
        ("console.log(0.1 + 0.2)", "0.30000000000000004\n"),
        ("console.log(-0, 1e21, 10n)", "-0 1e+21 10n\n"),
        ("console.log(7 / 2, 7 % 3, 2 ** 10)", "3.5 1 1024\n"),
        ("console.log('%d items', 3)", "3 items\n"),
        ("function f() {}\nconsole.log(f)", "[Function: f]\n"),
        ("Promise.resolve(2).then(v => console.log(v))", "2\n"),
        ("console.info('i'); console.error('e')", "i\n"),
    ],
)
def test_output_matches_node(js: JSRunner, code: str, stdout: str) -> None:
    [r] = js.run_many([code])
    assert (r.status, r.stdout) == ("ok", stdout)


def test_errors(js: JSRunner) -> None:
    rs = js.run_many(
        ["foo()", "throw 5", "let a = 1; let a = 2;", "return 5", "console.log(1);\nnull.x"]
    )
    assert [r.status for r in rs] == ["error"] * 5
    assert rs[0].error == "ReferenceError: foo is not defined"
    assert rs[1].error == "Uncaught 5"
    assert rs[2].error.startswith("SyntaxError:")
    assert rs[3].error == "SyntaxError: Illegal return statement"
    assert rs[4].stdout == "1\n" and rs[4].error.startswith("TypeError:")


def test_timeout_then_next_program_fine(js: JSRunner) -> None:
    rs = js.run_many(["while (true) {}", "console.log('next')"])
    assert rs[0].status == "timeout"
    assert 0.04 <= rs[0].duration < 0.5
    assert (rs[1].status, rs[1].stdout) == ("ok", "next\n")


def test_rejected(js: JSRunner) -> None:
    rs = js.run_many([123, "x" * (js.cfg.max_source + 1), "console.log(1)"])  # type: ignore[list-item]
    assert [r.status for r in rs] == ["rejected", "rejected", "ok"]


def test_output_cap(js: JSRunner) -> None:
    [r] = js.run_many(["for (;;) console.log('x'.repeat(100))"])
    assert r.status == "error" and r.error.startswith("OutputLimitExceeded")
    assert len(r.stdout) == js.cfg.max_output


def test_output_cap_cannot_be_caught(js: JSRunner) -> None:
    code = "for (let i = 0; i < 100; i++) { try { console.log('y'.repeat(100)) } catch (e) {} }"
    [r] = js.run_many([code])
    assert r.status == "error" and r.error.startswith("OutputLimitExceeded")


def test_cases_bind_globals(js: JSRunner) -> None:
    codes = ["console.log(x + y)", "let x = 10;\nconsole.log(x)", "x = x * 2; console.log(x)"]
    grid = js.run_cases(codes, [{"x": 1, "y": 2}, {"x": "a", "y": "b"}, {"x": [1], "y": [2]}])
    assert [r.stdout for r in grid[0]] == ["3\n", "ab\n", "12\n"]
    assert [r.stdout for r in grid[1]] == ["10\n"] * 3
    assert [r.stdout for r in grid[2]] == ["2\n", "NaN\n", "2\n"]
    # a case's globals do not outlive it
    [r] = js.run_many(["console.log(typeof x)"])
    assert r.stdout == "undefined\n"


def test_cases_validation(js: JSRunner) -> None:
    with pytest.raises(ValueError, match="case 0"):
        js.run_cases(["1"], [["not a dict"]])  # type: ignore[list-item]


def test_many_programs_in_order(js: JSRunner) -> None:
    codes = [f"console.log({i} * 2)" for i in range(500)]
    rs = js.run_many(codes)
    assert [r.stdout for r in rs] == [f"{i * 2}\n" for i in range(500)]


def test_worker_killed_between_batches_is_replaced(js: JSRunner) -> None:
    victim = js.pool[0]
    os.killpg(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait()
    rs = js.run_many([f"console.log({i})" for i in range(50)])
    assert [r.stdout for r in rs] == [f"{i}\n" for i in range(50)]
    assert all(w.alive() for w in js.pool)


def test_recycle_every() -> None:
    with JSRunner(SandboxConfig(workers=1, recycle_every=10)) as js:
        first = js.pool[0].proc.pid
        rs = js.run_many([f"console.log({i})" for i in range(30)])
        assert all(r.status == "ok" for r in rs)
        js.run_many(["1"])
        assert js.pool[0].proc.pid != first


def test_close_leaves_no_process() -> None:
    js = JSRunner(SandboxConfig(workers=2))
    js.start()
    pids = [w.proc.pid for w in js.pool]
    root = js.root
    js.run_many(["while(true){}"])
    pids += [w.proc.pid for w in js.pool]
    js.close()
    for pid in pids:
        assert (
            not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
        )
    assert root is None or not root.exists()


def test_timeouts_never_kill_their_neighbours() -> None:
    # With breakOnSigint a late SIGINT killed the worker and innocent programs with it.
    loop = "let x = 1;\nwhile (x < 10) {\n  x = x - 1;\n}"
    codes = [loop, "console.log(1)"] * 60
    with JSRunner(SandboxConfig(workers=2, timeout=0.02)) as js:
        rs = js.run_many(codes)
    assert all(r.status == "timeout" for r in rs[0::2])
    assert not any(r.status == "killed" for r in rs)
    # a wall-clock deadline on a heavily loaded machine may still starve an odd one
    assert sum((r.status, r.stdout) == ("ok", "1\n") for r in rs[1::2]) >= 58
