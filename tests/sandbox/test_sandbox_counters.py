"""Loop counters come back with results (a result's optional fifth element), checked both sides."""

from __future__ import annotations

import pytest

from engine.sandbox import ExecResult, Sandbox
from engine.sandbox.protocol import (
    COUNT_MAX,
    COUNTER_NAME,
    COUNTERS_MAX,
    case_results,
    counters,
)
from engine.sandbox.worker import wire

COUNTED = (
    "altlasi = [0] * 2\nfor i in range(n):\n    altlasi[0] += 1\n"
    "    for j in range(i):\n        altlasi[1] += 1\nprint(n)"
)
STRICT = "import math\n" + COUNTED  # an import: the strict tier runs it
CASES = [{"n": 3}, {"n": 5}]


def test_worker_and_engine_agree_on_the_channel():
    assert (wire.COUNTER_NAME, wire.COUNTERS_MAX, wire.COUNT_MAX) == (
        COUNTER_NAME,
        COUNTERS_MAX,
        COUNT_MAX,
    )


@pytest.mark.parametrize("code", [COUNTED, STRICT], ids=["fast", "strict"])
def test_counts_come_back_per_case(sb: Sandbox, code: str) -> None:
    row = sb.run_cases([code], CASES)[0]
    assert [r.stdout for r in row] == ["3\n", "5\n"]
    assert [r.iterations for r in row] == [(3, 3), (5, 10)]


def test_programs_without_counters_report_none(sb: Sandbox) -> None:
    row = sb.run_cases(["print(n)", "import math\nprint(n)"], CASES)
    assert all(r.iterations is None for rs in row for r in rs)


@pytest.mark.parametrize(
    "tamper",
    [
        "altlasi = [10 ** 80]",  # too big for the wire (and for JSON's int limits)
        "altlasi = [-1]",
        "altlasi = [1.5]",
        "altlasi = [True]",  # a bool is not a count
        "altlasi = 'abc'",
        "altlasi = [0] * 100",  # more counters than any program has
        "altlasi = (1, 2)",
        "altlasi.append([1])",
    ],
)
@pytest.mark.parametrize("tier", ["", "import math\n"], ids=["fast", "strict"])
def test_tampered_counters_are_dropped_not_fatal(sb: Sandbox, tamper: str, tier: str) -> None:
    code = f"{tier}altlasi = [0]\nfor i in range(n):\n    altlasi[0] += 1\n{tamper}\nprint(n)"
    row = sb.run_cases([code], CASES)[0]
    assert [(r.status, r.stdout, r.iterations) for r in row] == [
        ("ok", "3\n", None),
        ("ok", "5\n", None),
    ]
    # the sandbox keeps working afterwards
    assert sb.run_cases([COUNTED], CASES)[0][1].iterations == (5, 10)


def test_engine_side_checks_a_subverted_workers_counters():
    ok = ["ok", "", "", 0.1]
    assert counters([1, 2]) == (1, 2)
    for bad in ([-1], [COUNT_MAX + 1], [1.0], [True], "12", [[1]], None, [0] * (COUNTERS_MAX + 1)):
        assert counters(bad) is None
        # a bad fifth element only loses the counts; the result itself stands
        got = case_results([[*ok, bad]], 1, ExecResult)
        assert got == [ExecResult("ok", "", "", 0.1, None)]
    assert case_results([[*ok, [4]]], 1, ExecResult) == [ExecResult("ok", "", "", 0.1, (4,))]
    assert case_results([[*ok, [4], "extra"]], 1, ExecResult) is None  # six: malformed
    assert case_results([ok], 1, ExecResult) == [ExecResult("ok", "", "", 0.1)]


def test_inprocess_backend_reports_counts_too() -> None:
    from engine.config import SandboxConfig

    with Sandbox(SandboxConfig(backend="inprocess")) as box:
        row = box.run_cases([COUNTED, COUNTED.replace("print(n)", "altlasi = [-3]")], CASES)
    assert [r.iterations for r in row[0]] == [(3, 3), (5, 10)]
    assert [r.iterations for r in row[1]] == [None, None]
