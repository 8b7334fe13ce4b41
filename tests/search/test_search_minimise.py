"""Delta-debugging minimiser: dead code goes, behaviour stays, and a rejecting check stops it."""

from __future__ import annotations

import contextlib
import io

from engine.search.minimise import minimise, reductions

CASES = [(5, None), (3, None), (1, None), (10, None), (7, None)]


def _run(code: str, n: int) -> str | None:
    # In-process exec is used ONLY on the fixed, hand-written programs of these tests.
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<t>", "exec"), {"n": n})
    except Exception:
        return None
    return out.getvalue()


def _succeeds_like(reference: str, calls: list[int] | None = None):
    want = {n: _run(reference, n) for n, _ in CASES}

    def succeeds(codes: list[str]) -> list[bool]:
        if calls is not None:
            calls.append(len(codes))
        return [all(_run(c, n) == want[n] for n, _ in CASES) for c in codes]

    return succeeds


def _one_minimal(code: str, succeeds) -> bool:
    return not any(succeeds(reductions(code))) if reductions(code) else True


def test_dead_code_is_removed_and_behaviour_kept():
    code = "x = 3\nfor i in range(n):\n    t = 0\nprint(1 and n * 2 or 5)\n"
    calls: list[int] = []
    succeeds = _succeeds_like(code, calls)
    got = minimise(code, succeeds)
    assert got.strip() == "print(n * 2)"
    assert succeeds([got]) == [True]
    assert _one_minimal(got, succeeds)
    assert max(calls) <= 65  # batched: at most `batch` candidates plus the original per call


def test_loop_solution_keeps_its_loop():
    code = (
        "y = 4\n"
        "for i in range(n):\n"
        "    if i > 100:\n"
        "        y = y - 1\n"
        "    n += i if True else 3\n"
        "print(n or y)\n"
    )
    succeeds = _succeeds_like(code)
    got = minimise(code, succeeds)
    assert got.strip() == "for i in range(n):\n    n += i\nprint(n)"
    assert _one_minimal(got, succeeds)


def test_function_and_branches():
    code = (
        "def f(x):\n"
        "    if x > 2:\n"
        "        return x * 3\n"
        "    else:\n"
        "        return x * 3\n"
        "print(f(n) + 0)\n"
    )
    succeeds = _succeeds_like("print(n * 3 + 0)\n")
    got = minimise(code, succeeds)
    assert succeeds([got]) == [True]
    assert "else" not in got and "if" not in got and "+ 0" not in got
    assert _one_minimal(got, succeeds)


def test_a_rejecting_check_changes_nothing():
    code = "x = 3\nprint(1 and n * 2 or 5)\n"
    assert minimise(code, lambda codes: [False] * len(codes)) == code
    # accepting only the original: no reduction is kept
    assert minimise(code, lambda codes: [c == code for c in codes]) == code


def test_a_program_that_does_not_succeed_is_returned_unchanged():
    code = "x = 3\nprint(x)\n"
    assert minimise(code, _succeeds_like("print(n)\n")) == code


def test_reductions_are_smaller_and_compile():
    code = "for i in range(n):\n    if i:\n        break\nprint(-(n + 1) < 3 < 4, [1, 2][0])\n"
    cands = reductions(code)
    assert cands and all(len(c) < len(code) for c in cands)
    for c in cands:
        compile(c, "<t>", "exec")
    assert "print(-(n + 1) < 3 < 4, [1, 2][0])" in cands  # the loop deleted
    assert any("3 < 4" in c and "-(n + 1) <" not in c for c in cands)  # a chain link dropped
