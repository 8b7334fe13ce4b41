"""A program on several cases in one timed call (worker.js `runBatch`): every case as if run
alone, and `stop_on_timeout`."""

from __future__ import annotations

import pytest

from engine.languages.javascript import JSRunner
from engine.languages.javascript.runner import find_node

pytestmark = pytest.mark.skipif(find_node() is None, reason="node is not installed")

CASES = [{"x": i} for i in range(6)]


def test_each_case_sees_only_its_own_globals_and_output(js: JSRunner) -> None:
    codes = [
        # a global left by one case must not reach the next one of the same program
        "seen = (typeof seen === 'undefined' ? 0 : seen) + 1; var v = x; console.log(seen, v);",
        # a case that throws does not stop the others; output before the error is kept
        "console.log('a' + x); if (x % 2) { throw new Error('odd ' + x); } console.log('b');",
        # output limit per case
        "if (x === 2) { for (;;) { console.log('y'.repeat(100)); } } console.log(x);",
        # the function object is fresh per case (arguments.callee is not shared state)
        "'use strict'; console.log(x);",
    ]
    grid = js.run_cases(codes, CASES)
    assert [(r.status, r.stdout) for r in grid[0]] == [("ok", f"1 {i}\n") for i in range(6)]
    assert [r.status for r in grid[1]] == ["ok", "error"] * 3
    assert grid[1][3].stdout == "a3\n" and grid[1][3].error == "Error: odd 3"
    assert grid[1][4].stdout == "a4\nb\n"
    assert grid[2][2].status == "error" and grid[2][2].error.startswith("OutputLimitExceeded")
    assert [r.stdout for i, r in enumerate(grid[2]) if i != 2] == [
        f"{i}\n" for i in (0, 1, 3, 4, 5)
    ]
    assert [r.stdout for r in grid[3]] == [f"{i}\n" for i in range(6)]
    [after] = js.run_many(["console.log(typeof seen, typeof v, typeof x)"])
    assert after.stdout == "undefined undefined undefined\n"


def test_a_late_endless_case_keeps_the_earlier_results(js: JSRunner) -> None:
    code = "if (x === 3) { while (true) {} } console.log(x * 10);"
    [row] = js.run_cases([code], CASES)
    assert [r.status for r in row] == ["ok"] * 3 + ["timeout"] + ["ok"] * 2
    assert [r.stdout for r in row if r.status == "ok"] == ["0\n", "10\n", "20\n", "40\n", "50\n"]
    [row] = js.run_cases([code], CASES, stop_on_timeout=True)
    assert [r.status for r in row] == ["ok"] * 3 + ["timeout"] * 3
    assert all(r.duration == 0 for r in row[4:])  # not run


def test_microtasks_print_into_their_own_case(js: JSRunner) -> None:
    # such programs run case by case: their microtasks run when their own call ends
    [row] = js.run_cases(["Promise.resolve(x).then((v) => console.log('p', v));"], CASES)
    assert [r.stdout for r in row] == [f"p {i}\n" for i in range(6)]


def test_poisoning_does_not_reach_a_later_case(js: JSRunner) -> None:
    code = (
        "if (x === 0) { try { Array.prototype.join = () => 'pwned'; } catch (e) {}"
        " try { Math.max = () => 'pwned'; } catch (e) {} globalThis.leak = 'pwned'; }"
        " console.log([1, 2].join('-'), Math.max(1, 2), typeof leak);"
    )
    [row] = js.run_cases([code], CASES[:3])
    assert [r.stdout for r in row[1:]] == ["1-2 2 undefined\n"] * 2
