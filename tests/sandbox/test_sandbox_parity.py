"""Normal programs give the same stdout, status and error in the sandbox as under plain Python."""

from __future__ import annotations

import contextlib
import io
import random

from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox_progs import TYPICAL, generate

from engine.sandbox import Sandbox


def plain(code: str) -> tuple[str, str, str]:
    """(status, stdout, error) of `code` run by plain exec here. Only for generated, benign code."""
    buf = io.StringIO()
    status, err = "ok", ""
    try:
        with contextlib.redirect_stdout(buf):
            exec(compile(code, "<program>", "exec"), {"__name__": "__main__"})
    except Exception as e:  # noqa: BLE001 - mirrors the sandbox's error report
        status, err = "error", f"{type(e).__name__}: {e}"
    return status, buf.getvalue(), err


def _compare(sb: Sandbox, codes: list[str]) -> None:
    results = sb.run_many(codes, timeout=2.0)
    mismatches = []
    for code, r in zip(codes, results, strict=True):
        want = plain(code)
        if (r.status, r.stdout, r.error) != want:
            mismatches.append((code, want, r))
    assert not mismatches, mismatches[:3]


def test_generated_programs_match_plain_python(sb: Sandbox) -> None:
    rng = random.Random(1234)
    codes = list(TYPICAL) + [generate(rng) for _ in range(400)]
    # Same programs through the strict tier too: a harmless import routes them there.
    codes += ["import math\n" + c for c in codes[:60]]
    before = sb.describe()["stats"]
    _compare(sb, codes)
    after = sb.describe()["stats"]
    assert after["strict"] - before["strict"] >= 60
    assert after["fast"] - before["fast"] >= 400


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_generated_programs_match_plain_python_hypothesis(sb: Sandbox, seed: int) -> None:
    rng = random.Random(seed)
    _compare(sb, [generate(rng) for _ in range(5)])


def test_generator_produces_varied_outcomes() -> None:
    """The comparison above is only meaningful if the programs print and fail in varied ways."""
    rng = random.Random(1234)
    outcomes = [plain(generate(rng)) for _ in range(400)]
    assert sum(o[0] == "ok" and o[1] != "" for o in outcomes) > 100
    kinds = {o[2].split(":")[0] for o in outcomes if o[0] == "error"}
    assert {"NameError", "ZeroDivisionError", "TypeError"} <= kinds


def test_warnings_and_unraisable_reports_stay_out_of_stdout(sb: Sandbox) -> None:
    """Python prints these on stderr; the program's stdout must match plain Python's."""
    codes = [
        "print(1 is 1)",  # SyntaxWarning at compile time
        "async def f():\n    pass\nf()\nprint('x')",  # RuntimeWarning: never awaited
        "print('\\d')",  # DeprecationWarning: invalid escape sequence
    ]
    assert [r.stdout for r in sb.run_many(codes)] == ["True\n", "x\n", "\\d\n"]


def test_compile_warning_after_an_output_overflow(sb: Sandbox) -> None:
    r = sb.run_many(["print('A' * 100000)", "print(1 is 1)", "print(2)"])
    assert r[0].status == "error" and "OutputLimit" in r[0].error
    assert [(x.status, x.stdout) for x in r[1:]] == [("ok", "True\n"), ("ok", "2\n")]
