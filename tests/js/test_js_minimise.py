"""JavaScript solutions are minimised on the JS tree (engine/languages/javascript/minimise.py)."""

from __future__ import annotations

import pytest

from engine.languages.javascript.minimise import minimise

pytest.importorskip("esprima")


def _prints_8(codes: list[str]) -> list[bool]:
    """A stand-in for the reward that needs no node: the program must keep `console.log`, the
    sum `5 + 3` and no dead helpers. (The real reward is used in the integration test.)"""
    return ["console.log" in c and ("5 + 3" in c or "3 + 5" in c) for c in codes]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("function f(x, y) {\n  y--;\n  console.log(5 + 3);\n}\nf(7);\n", "console.log(5 + 3);\n"),
        ("if (!0 + 5 >= 5) {\n  console.log(Math.max(5 + 3));\n}\n", "console.log(5 + 3);\n"),
        ("const n = -!0 <= false || false;\nconsole.log(Math.max(Math.max(3 + 5)));\n",
         "console.log(3 + 5);\n"),
        ("let y = 8;\ny--;\nconsole.log(String([5 + 3]));\n", "console.log(5 + 3);\n"),
    ],
)  # fmt: skip
def test_dead_code_and_wrappers_are_removed(code, expected):
    assert minimise(code, _prints_8) == expected


def test_a_failing_or_unparsable_program_is_returned_unchanged():
    assert minimise("console.log(8);\n", _prints_8) == "console.log(8);\n"
    assert minimise("print(5 + 3)\nlet let\n", _prints_8) == "print(5 + 3)\nlet let\n"


def test_result_is_one_minimal():
    calls: list[int] = []

    def succeeds(codes: list[str]) -> list[bool]:
        calls.append(len(codes))
        return _prints_8(codes)

    out = minimise("let a = 1;\nlet b = 2;\nconsole.log(a + b + (5 + 3));\n", succeeds)
    assert out == "console.log(5 + 3);\n"
    # no single reduction of the result still succeeds
    from engine.languages.javascript.minimise import _candidates, _parse

    tree = _parse(out)
    assert tree is not None
    assert not any(_prints_8([c])[0] for c in _candidates(out, tree) if c.strip() and c != out)
