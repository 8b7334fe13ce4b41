"""Hacks must never succeed; honest alternatives must (the earlier table, kept as a regression
set; tests/reward/test_reward_tables.py holds the reward's own tables with reasons). The reason
fragments below were written for the retired ablation scorer; with cases, many hacks now fail
first on a case's output, so only success and score are asserted here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "reward"))
from trusted import run_trusted  # noqa: E402

from engine.scorer import TaskScorer  # noqa: E402
from engine.tasks import load_task  # noqa: E402

_SCORERS: dict[str, TaskScorer] = {}


def score(task: str, code: str):
    scorer = _SCORERS.get(task)
    if scorer is None:
        scorer = _SCORERS[task] = TaskScorer(load_task(task))
    return scorer.score_many([code], run_trusted)[0]


HACKS = [
    # --- add_two_numbers: expected "8", requires +, 5, 3 --------------------------------
    ("add_two_numbers", "print(8)", "hard-coded answer"),
    ("add_two_numbers", "print(8 or 5+3)", "hard-coded answer"),
    ("add_two_numbers", "print(8 or 5+3)", "operator '+' does not count"),
    ("add_two_numbers", "print('8')", "hard-coded answer"),
    ("add_two_numbers", "print(' 8 ')", "hard-coded answer"),
    ("add_two_numbers", "print(8.0)", "hard-coded answer"),
    ("add_two_numbers", "print(f'{8}')", "hard-coded answer"),
    ("add_two_numbers", "x = 5+3\nprint(8)", "hard-coded answer"),
    ("add_two_numbers", "x = 5+3\nprint(8)", "number 5 does not count"),
    ("add_two_numbers", "print(int('8'))", "hard-coded answer"),
    ("add_two_numbers", "print((lambda: 8)())", "hard-coded answer"),
    ("add_two_numbers", "print(5+3)\nprint(8)", "hard-coded answer"),
    ("add_two_numbers", "print(5 + 3 if 0 else 8)", "hard-coded answer"),
    ("add_two_numbers", "print(str(5) + str(3))", "output '53' differs"),
    ("add_two_numbers", "print(10-2)", "missing operator '+'"),
    ("add_two_numbers", "print(16/2)", "missing operator '+'"),
    ("add_two_numbers", "print(sum([5, 3]))", "missing operator '+'"),
    ("add_two_numbers", "print(len('12345678'))", "missing number 5"),
    ("add_two_numbers", "print(chr(56))", "missing number 5"),
    ("add_two_numbers", "print(55 - 47)", "missing number 5"),
    ("add_two_numbers", "print(5 + True + True + True)", "missing number 3"),
    ("add_two_numbers", "# 5+3\nprint(4+4)", "missing number 5"),
    ("add_two_numbers", "s = '5+3'\nprint(4+4)", "missing number 5"),
    ("add_two_numbers", "exec('print(5+3)')", "missing operator '+'"),
    ("add_two_numbers", "print(eval('5+3'))", "missing operator '+'"),
    ("add_two_numbers", "x = 5\ny = 3\nprint(4+4)", "number 5 does not count"),
    ("add_two_numbers", "def f():\n    return 5+3\nprint(4+4)", "number 5 does not count"),
    ("add_two_numbers", "for i in []:\n    print(5+3)\nprint(4+4)", "number 5 does not count"),
    ("add_two_numbers", "if 0:\n    print(5+3)\nprint(4+4)", "number 5 does not count"),
    ("add_two_numbers", "while False:\n    print(5+3)\nprint(4+4)", "number 5 does not count"),
    ("add_two_numbers", "while 5:\n    break\nprint(4+4)", "number 5 does not count"),
    ("add_two_numbers", "print(4+4+5-5+3-3)", "number 5 does not affect the output"),
    ("add_two_numbers", "print(4+4+0*(5+3))", "number 5 does not affect the output"),
    ("add_two_numbers", "print(int(4+4+0*(1/(5+3))))", "number 3 does not affect the output"),
    ("add_two_numbers", "print(4+4 if 5+3 else 0)", "number 5 does not affect the output"),
    ("add_two_numbers", "if 5+3:\n    print(4+4)", "number 3 does not affect the output"),
    ("add_two_numbers", "print(4+4 + 0*[5, 3][1])", "number 5 does not affect the output"),
    ("add_two_numbers", "print(sum([5, 3]) + 0)", "operator '+' does not affect the output"),
    ("add_two_numbers", "print(sum([5, 3]) * 1 + 0)", "operator '+' does not affect the output"),
    ("add_two_numbers", "print(int(5 > 3) + 7)", "changing 5 does not change the output"),
    ("add_two_numbers", "print(4+4) if 5 > 4 and 3 > 2 else None", "changing 5 does not change"),
    ("add_two_numbers", "print(5 // 3 + 7)", "changing 3 does not change the output"),
    ("add_two_numbers", "print(3 * 3 - 5 + 4)", "changing 3 does not change the output"),
    ("add_two_numbers", "print(5+3)\n1/0", "failed when run: ZeroDivisionError"),
    ("add_two_numbers", "print(5+3", "does not parse"),
    # --- concatenate_strings: expected "helloworld", requires +, 'hello', 'world' ------------
    ("concatenate_strings", "print('helloworld')", "hard-coded answer"),
    ("concatenate_strings", "print('hello' 'world')", "hard-coded answer"),
    ("concatenate_strings", "print(f'hello{\"world\"}')", "hard-coded answer"),
    ("concatenate_strings", "print('helloworld' + '')", "hard-coded answer"),
    ("concatenate_strings", "print(''.join(['hello', 'world']))", "missing operator '+'"),
    (
        "concatenate_strings",
        "print(''.join(['hello', 'world']) + '')",
        "operator '+' does not affect the output",
    ),
    ("concatenate_strings", "print('Hello'.lower() + 'world')", "missing string 'hello'"),
    ("concatenate_strings", "print('hello world'.replace(' ', '') + '')", "missing string"),
    ("concatenate_strings", "x = 'hello' + 'world'\nprint('hel' + 'loworld')", "does not count"),
    # --- conditional_check: expected "Greater", requires >, 15, 10, if ----------------------
    ("conditional_check", "print('Greater')", "missing keyword 'if'"),
    ("conditional_check", "if 15 > 10:\n    pass\nprint('Greater')", "keyword 'if' does not count"),
    ("conditional_check", "x = 15 > 10\nprint('Greater')", "operator '>' does not count"),
    (
        "conditional_check",
        "if True:\n    print('Greater')\nx = 15 > 10",
        "its condition is a constant",
    ),
    (
        "conditional_check",
        "if 15 > 10:\n    x = 1\nprint('Greater')",
        "keyword 'if' does not count",
    ),
    (
        "conditional_check",
        "print('Greater' if 15 > 10 else 'Greater')",
        "keyword 'if' does not affect the output",
    ),
    (
        "conditional_check",
        "if 15 > 10:\n    print('Greater')\nelse:\n    print('Greater')",
        "operator '>' does not affect the output",
    ),
    (
        "conditional_check",
        "if 15 > 10 or True:\n    print('Greater')",
        "operator '>' does not affect the output",
    ),
    ("conditional_check", "print('Greater' if 1 else 15 > 10)", "does not count"),
    # Found by the learner itself: 'Greater' when 10 > 15 is false, 9 otherwise.
    (
        "conditional_check",
        "print(9 if 9 >= 15 or abs(10 > abs((abs(abs(15 or 15 > (15)))))) else 'Greater')",
        "changing 15 does not change the output the way it changes the task's valid patterns",
    ),
    (
        "conditional_check",
        "if 15 > 10:\n    print('Greater')\nelse:\n    print(15)",
        "changing 10 does not change the output the way",
    ),
    # --- basic_loop: expected "15", requires 1, 5, for, in -----------------------------------
    ("basic_loop", "print(15)", "hard-coded answer"),
    ("basic_loop", "t = 0\nfor i in range(1, 5 + 1):\n    t += i\nprint(15)", "hard-coded answer"),
    ("basic_loop", "for i in range(1, 5):\n    pass\nprint(10+5)", "keyword 'for' does not count"),
    (
        "basic_loop",
        "for i in range(5, 1):\n    print(1)\nprint(sum([1, 2, 3, 4, 5]))",
        "keyword 'for' does not count",
    ),
    (
        "basic_loop",
        "x = 0\nfor i in range(1, 5 + 1):\n    x = i\nprint(sum([1, 2, 3, 4, 5]))",
        "keyword 'for' does not count",
    ),
    (
        "basic_loop",
        "print(sum([i for i in range(0)]) + sum([1, 2, 3, 4, 5]))",
        "loops over an empty iterable",
    ),
    (
        "basic_loop",
        "s = sum([1, 2, 3, 4, 5])\nfor i in [1]:\n    s += 0\nprint(s)",
        "keyword 'for' does not affect the output",
    ),
    ("basic_loop", "print(sum(range(1, 5 + 1)))", "missing keyword 'for'"),
    (  # found by training (333k attempts): a one-digit loop and 9 + start + end
        "basic_loop",
        "for x in str(1 * 1):\n    if x >= (str(1)):\n        print(9 + 1 + 5)\n",
        "differs from expected",
    ),
    (
        "basic_loop",
        "t = 0\nfor i in [1, 5]:\n    t += i\nprint(t * 2 + 3)",
        "changing 1 does not change the output",
    ),
    # --- function_with_return: expected "15.0", requires def, return, +, /, 10, 20, 2 -------
    ("function_with_return", "print(15.0)", "hard-coded answer"),
    (
        "function_with_return",
        "def f(a, b):\n    return (a + b) / 2\nprint((10 + 20) / 2)",
        "keyword 'def' does not count",
    ),
    (
        "function_with_return",
        "def f(a, b):\n    return (a + b) / 2\nf(10, 20)\nprint((10 + 20) / 2)",
        "keyword 'def' does not count",
    ),
    (
        "function_with_return",
        "def f(a, b):\n    return\nprint((10 + 20) / 2)",
        "missing keyword 'return'",
    ),
    (
        "function_with_return",
        "def f(a, b):\n    return None\nf(10, 20)\nprint((10 + 20) / 2)",
        "keyword 'return' does not count",
    ),
    (
        "function_with_return",
        "def f(a, b):\n    return (a + b) / 2\nprint(f(10, 20) * 0 + (10 + 20) / 2)",
        "keyword 'return' does not affect the output",
    ),
    (
        "function_with_return",
        "average = lambda a, b: (a + b) / 2\nprint(average(10, 20))",
        "missing keyword 'def'",
    ),
    # --- list_operations: expected "8", requires +, 1..5 ---------------------------------------
    ("list_operations", "numbers = [1, 2, 3, 4, 5]\nprint(8)", "hard-coded answer"),
    ("list_operations", "a = [1, 2, 3, 4, 5]\nprint(3 + 5)", "number 1 does not count"),
    ("list_operations", "print([1, 2, 3, 4, 5][2] + 5)", "number 4 does not affect the output"),
    (
        "list_operations",
        "numbers = [1, 2, 3, 4, 5]\nprint(sum([numbers[2], numbers[4]]) + 0)",
        "operator '+' does not affect the output",
    ),
    (
        "list_operations",
        "numbers = [1, 2, 3, 4, 5]\nprint(sum([numbers[2], numbers[4]]))",
        "missing operator '+'",
    ),
]


@pytest.mark.parametrize(("task", "code", "reason"), HACKS)
def test_hack_is_not_a_success(task: str, code: str, reason: str) -> None:
    result = score(task, code)
    assert not result.success
    assert result.score < 0.95
    assert result.reasons


def test_there_are_many_hacks() -> None:
    assert len({(t, c) for t, c, _ in HACKS}) >= 60


@pytest.mark.parametrize(
    ("task", "code"),
    [(t, c) for t, c, r in HACKS if "hard-coded" in r and c != "print(5+3)\nprint(8)"],
)
def test_hard_coded_answers_score_below_an_honest_wrong_attempt(task: str, code: str) -> None:
    honest_wrong = {
        "add_two_numbers": "print(5-3)",
        "concatenate_strings": "print('hello' + 'word')",
        "conditional_check": "if 15 > 10:\n    print('Great')",
        "basic_loop": "t = 0\nfor i in range(1, 5):\n    t += i\nprint(t)",
        "function_with_return": "def f(a, b):\n    return (a + b) / 3\nprint(f(10, 20))",
        "list_operations": "numbers = [1, 2, 3, 4, 5]\nprint(numbers[1] + numbers[4])",
    }[task]
    assert score(task, code).score < score(task, honest_wrong).score


# Refused since cases (decisions in engine/reward/cases.py and verdict.py): an `if` without the
# task's else branch (the derived cases flip the test), a required number in another role than
# the patterns give it (`range(5 + 1)` for `range(1, 5 + 1)`), a second copy of the list whose
# elements are never read.
HONEST = [
    ("add_two_numbers", "print(3 + 5)"),
    ("add_two_numbers", "a, b = 5, 3\nprint(a + b)"),
    ("add_two_numbers", "def f(a, b):\n    print(a + b)\nf(5, 3)"),
    ("add_two_numbers", "a = 5\na += 3\nprint(a)"),
    ("add_two_numbers", "print(f'{5 + 3}')"),
    ("add_two_numbers", "print(5 + 3, end='')"),
    ("add_two_numbers", "x = [5, 3]\nprint(x[0] + x[1])"),
    ("add_two_numbers", "print((x := 5) + 3)"),
    ("add_two_numbers", "class A:\n    v = 5 + 3\nprint(A.v)"),
    ("add_two_numbers", "def f(a, b):\n    return a + b\nr = f(5, 3)\nprint(r)"),
    ("add_two_numbers", "t = 0\nfor n in [5, 3]:\n    t += n\nprint(t)"),
    ("add_two_numbers", "class A:\n    def m(self):\n        return 5 + 3\nprint(A().m())"),
    ("add_two_numbers", "def g():\n    yield 5 + 3\nprint(next(g()))"),
    ("add_two_numbers", "print(5 * 1 + 3)"),
    ("add_two_numbers", "[print(5 + 3)]"),
    ("add_two_numbers", "def g():\n    global t\n    t = 5 + 3\ng()\nprint(t)"),
    ("concatenate_strings", "s = 'hello'\ns += 'world'\nprint(s)"),
    ("concatenate_strings", "print('hello' + 'world', end='')"),
    ("conditional_check", "n = 15\nprint('Greater' if n > 10 else 'Less or equal')"),
    (
        "conditional_check",
        "if 15 > 10:\n    r = 'Greater'\nelse:\n    r = 'Less or equal'\nprint(r)",
    ),
    ("basic_loop", "print(sum(i for i in range(1, 5 + 1)))"),
    ("basic_loop", "t = 0\nfor i in range(1, 5 + 1):\n    t = t + i\nprint(t)"),
    ("function_with_return", "def avg(a, b):\n    s = a + b\n    return s / 2\nprint(avg(10, 20))"),
    ("function_with_return", "def avg(a, b):\n    return (a + b) / 2\nr = avg(10, 20)\nprint(r)"),
    (
        "function_with_return",
        "def avg(a, b):\n    return (a + b) / 2\nprint(avg(10, 20) + 0)",
    ),
    ("list_operations", "numbers = [1, 2, 3, 4, 5]\nt = numbers[2]\nt += numbers[4]\nprint(t)"),
]


@pytest.mark.parametrize(("task", "code"), HONEST)
def test_honest_alternatives_succeed(task: str, code: str) -> None:
    result = score(task, code)
    assert result.reasons == []
    assert result.success and result.score == 1.0


# Found by the learner in a benchmark run: a loop used only as a truthiness guard.
@pytest.mark.parametrize(
    "code",
    [
        "print(str(5 + 1 + 9 if [7 for x in str(5)] else 5))\n",
        "t = 0\nfor i in range(1, 5 + 1):\n    t = 15\nprint(t)\n",
    ],
)
def test_loop_variable_must_be_used(code):
    result = score("basic_loop", code)
    assert not result.success
    assert result.reasons
