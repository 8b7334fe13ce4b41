"""run_cases: one compile per program, one run per case with fresh globals, in every backend."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sandbox_progs import generate

from engine.config import SandboxConfig
from engine.sandbox import ExecResult, Sandbox

CASES = [{"a": 3, "b": 4}, {"a": -1, "b": 0}, {"a": 10, "b": 7}]


def _prefix(case: dict[str, object]) -> str:
    return "".join(f"{k} = {v!r}\n" for k, v in case.items())


def _key(r: ExecResult) -> tuple[str, str, str]:
    return (r.status, r.stdout, r.error)


@pytest.fixture(scope="module", params=["process", "inprocess"])
def box(request: pytest.FixtureRequest, secret_env: None) -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(backend=request.param, timeout=0.2)) as sb:
        yield sb


def test_parity_with_run_many_on_prefix_bound_programs(box: Sandbox) -> None:
    rng = random.Random(7)
    codes = [generate(rng).replace("x", "a").replace("y", "b") for _ in range(60)]
    codes += ["print(a + b)", "print(a // b)", "import math\nprint(math.hypot(a, b))", "print(c)"]
    table = box.run_cases(codes, CASES)
    assert len(table) == len(codes) and all(len(row) == len(CASES) for row in table)
    for j, case in enumerate(CASES):
        bound = box.run_many([_prefix(case) + c for c in codes])
        got = [_key(row[j]) for row in table]
        want = [_key(r) for r in bound]
        # Line numbers differ in nothing we report; error texts must match exactly.
        assert got == want, [(c, g, w) for c, g, w in zip(codes, got, want, strict=True) if g != w][
            :3
        ]


def test_each_case_gets_fresh_copies(box: Sandbox) -> None:
    cases = [{"xs": [1, 2], "n": 1}, {"xs": [5], "n": 2}, {"xs": [1, 2], "n": 3}]
    code = "xs.append(n)\nprint(xs)\n"
    for tier in ("", "import math\n"):  # fast and strict tier
        row = box.run_cases([tier + code], cases)[0]
        assert [r.stdout for r in row] == ["[1, 2, 1]\n", "[5, 2]\n", "[1, 2, 3]\n"]
    assert cases[0]["xs"] == [1, 2]  # the caller's dicts are never touched


def test_globals_do_not_leak_between_cases(box: Sandbox) -> None:
    code = (
        "try:\n    seen\n    print('leak')\nexcept NameError:\n    seen = 1\n    print('fresh')\n"
    )
    for tier in ("", "import math\n"):
        row = box.run_cases([tier + code], [{}, {}, {}])[0]
        assert [r.stdout for r in row] == ["fresh\n"] * 3


def test_timeout_is_per_case_and_ends_the_program(box: Sandbox) -> None:
    code = "if n == 2:\n    while True:\n        pass\nprint(n)\n"
    cases = [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]
    for tier in ("", "import math\n"):
        row = box.run_cases([tier + code, tier + "print(n * 2)"], cases, timeout=0.1)
        assert [r.status for r in row[0]] == ["ok", "timeout", "timeout", "timeout"]
        assert row[0][0].stdout == "1\n" and row[0][2].duration == 0.0
        assert [r.stdout for r in row[1]] == ["2\n", "4\n", "6\n", "8\n"]


def test_kill_is_per_case_and_ends_the_program(box: Sandbox) -> None:
    row = box.run_cases(
        ["if n == 2:\n    raise SystemExit(3)\nprint(n)"], [{"n": 1}, {"n": 2}, {"n": 3}]
    )[0]
    assert [r.status for r in row] == ["ok", "killed", "killed"]


def test_syntax_error_and_rejection_fill_every_case(box: Sandbox) -> None:
    table = box.run_cases(["print(1 +", 5, "x" * 30_000], CASES)  # type: ignore[list-item]
    assert [r.status for r in table[0]] == ["error"] * 3
    assert [r.status for r in table[1]] == ["rejected"] * 3
    assert [r.status for r in table[2]] == ["rejected"] * 3


def test_run_many_is_one_empty_case(box: Sandbox) -> None:
    codes = ["print(1)", "print(q)", "import math\nprint(2)"]
    assert [_key(r) for r in box.run_many(codes)] == [
        _key(row[0]) for row in box.run_cases(codes, [{}])
    ]
    assert box.run_cases([], CASES) == []
    assert box.run_cases(["print(1)"], []) == [[]]


@pytest.mark.parametrize(
    "cases",
    [
        [{"__builtins__": {}}],
        [{"a b": 1}],
        [{1: 2}],
        [{"a": object()}],
        [{"a": (1, 2)}],
        ["a"],
        {"a": 1},
    ],
)
def test_malformed_cases_raise(box: Sandbox, cases: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        box.run_cases(["print(1)"], cases)  # type: ignore[arg-type]


def test_hard_kill_mid_program_keeps_earlier_cases() -> None:
    """A case that ignores the soft deadline is SIGKILLed; earlier cases keep their results
    (re-run on another worker), later ones share the timeout."""
    code = (
        "if n == 2:\n    while True:\n        try:\n            while True:\n                pass\n"
        "        except BaseException:\n            pass\nprint(n)\n"
    )
    with Sandbox(SandboxConfig(timeout=0.1)) as sb:
        row = sb.run_cases([code, "print(n)"], [{"n": 1}, {"n": 3}, {"n": 2}, {"n": 4}])
        assert [r.status for r in row[0]] == ["ok", "ok", "timeout", "timeout"]
        assert [r.stdout for r in row[0][:2]] == ["1\n", "3\n"]
        assert [r.stdout for r in row[1]] == ["1\n", "3\n", "2\n", "4\n"]
        assert sb.describe()["stats"]["replaced"] >= 1
