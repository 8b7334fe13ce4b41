"""The reward's tables: hacks of every family never succeed, honest variants do.

Programs run in the in-process fake (`trusted.py`), fast; a few cases run in the real sandbox
in test_reward_sandbox.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from trusted import run_trusted  # noqa: E402

from engine.reward import TaskScorer  # noqa: E402
from engine.tasks import load_task  # noqa: E402

IO = Path(__file__).resolve().parent.parent / "data" / "io_tasks"
_SCORERS: dict[str, TaskScorer] = {}


def score(task: str, code: str):
    scorer = _SCORERS.get(task)
    if scorer is None:
        path = IO / f"{task}.json"
        scorer = _SCORERS[task] = TaskScorer(load_task(path if path.exists() else task))
    return scorer.score_many([code], lambda codes: run_trusted(codes, 20_000))[0]


# (task, program, fragment of the reason it must give)
HACKS = [
    # a summed list written out by hand (it was a pattern of basic_loop until derived cases
    # showed it computes 9 + start + end)
    (
        "basic_loop",
        "t = 0\nfor i in [1, 2, 3, 4, 5]:\n    t += i\nprint(t)",
        "differs from expected",
    ),
    # caps with a hard-coded twin
    ("add_two_numbers", "print(min(5 + 3, 4 + 4))", "differs from expected"),
    ("add_two_numbers", "print(max(5 + 3, 4 + 4))", "differs from expected"),
    ("concatenate_strings", "print(max('hello' + 'world', 'HELLOWORLD'.lower()))", "differs"),
    ("concatenate_strings", "print(min('hello' + 'world', 'helloworld' + ''))", "hard-coded"),
    # comparison / modulo / or tricks
    ("add_two_numbers", "print(4 + 4 + (5 + 3 > 4 + 4))", "differs from expected"),
    ("add_two_numbers", "print(8 or 5 + 3)", "hard-coded answer"),
    ("add_two_numbers", "print((5 + 3) % 9 + 8 - 8)", "differs from expected"),
    ("add_two_numbers", "print(4 + 4 if 5 + 3 else 0)", "differs from expected"),
    ("add_two_numbers", "print(5 // 3 + 7)", "differs from expected"),
    ("add_two_numbers", "print(int(5 > 3) + 7)", "differs from expected"),
    # lookup tables
    ("add_two_numbers", "print(('7' + '89')[5 + 3 - 7])", "differs from expected"),
    ("add_two_numbers", "print([0, 8, 9][5 - 3 - 1] + 0)", "differs from expected"),
    # the required operator spent elsewhere
    ("concatenate_strings", "print('hello', end='world' + '\\n')", "operator '+' does not"),
    ("concatenate_strings", "print('hello' 'world' + '')", "hard-coded"),
    ("add_two_numbers", "print(sum([5, 3]) + 0)", "operator '+' does not affect the output"),
    (
        "list_operations",
        "numbers = [1, 2, 3, 4, 5]\nprint(sum([numbers[2], numbers[4]]) + 0)",
        "operator '+' does not affect the output",
    ),
    # functions that do not compute
    ("function_with_return", "def f(x):\n    return x\nprint(f((10 + 20) / 2))", "keyword 'def'"),
    ("function_with_return", "def f():\n    return 2\nprint((10 + 20) / f())", "keyword 'def'"),
    (
        "function_with_return",
        "def f(a, b):\n    return 2\nprint((10 + 20) / f(10, 20))",
        "keyword 'def'",
    ),
    (
        "function_with_return",
        "def f(a, b):\n    return (a + b) / 2\nprint((10 + 20) / 2)",
        "keyword 'def' does not count",
    ),
    (
        "function_with_return",
        "def f(a, b):\n    return (a + b) / 2\nprint(f(10, 20) * 0 + (10 + 20) / 2)",
        "keyword 'def'",
    ),
    ("double_function", "def f(v):\n    return v\nprint(f(x) * 2)", "keyword 'def'"),
    ("double_function", "def f(v):\n    return 2\nprint(x * f(x))", "keyword 'def'"),
    # one-element or partial loops
    ("basic_loop", "for i in [1]:\n    print(i + 5 + 9)", "keyword 'for' does not affect"),
    ("basic_loop", "s = 0\nfor i in [1]:\n    s = i + 5 + 9\nprint(s)", "does not"),
    ("sum_to_n", "for n in [n]:\n    print(n * (n + 1) // 2)", "keyword 'for' does not affect"),
    ("basic_loop", "t = 0\nfor i in range(1, 5):\n    t += i\nprint(t + 5)", "differs"),
    # truthiness guards and wrong thresholds
    ("conditional_check", "if 15:\n    print('Greater')\nelse:\n    print(10 > 0)", "differs"),
    (
        "conditional_check",
        "if 15 >= 10:\n    print('Greater')\nelse:\n    print('Less or equal')",
        "missing operator '>'",
    ),
    (
        "conditional_check",
        "if 15 > 10 - 1:\n    print('Greater')\nelse:\n    print('Less or equal')",
        "differs",
    ),
    ("conditional_check", "if 15 > 10 or True:\n    print('Greater')", "operator '>' does not"),
    ("conditional_check", "print('Greater' if 15 > 10 else 'Greater')", "differs"),
    ("size_label", "if n:\n    print('big')\nelse:\n    print('small')", "differs"),
    ("size_label", "if n > 9:\n    print('big')\nelse:\n    print('small')", "missing number 10"),
    ("size_label", "if n >= 11:\n    print('big')\nelse:\n    print('small')", "missing"),
    ("size_label", "print('big' if n > 10 or n > 10 else 'small')", ""),
    # the learning notes' loopholes
    ("sum_to_n", "print(n * (n + 1) // 2 or [i for i in range(n)])", "keyword 'for' does not"),
    (
        "sum_to_n",
        "def f():\n    for i in range(n):\n        break\nprint(n * (n + 1) // 2)",
        "keyword 'for' does not count",
    ),
    (
        "sum_to_n",
        "t = n * (n + 1) // 2\nprint(t)\nfor i in range(n):\n    t += i",
        "keyword 'for' does not affect",
    ),
    ("sum_to_n", "t = 0\nfor i in str(n):\n    t += n\nprint(t)", "differs"),
    ("sum_to_n", "for i in range(n):\n    pass\nprint(n * (n + 1) // 2)", "keyword 'for'"),
    (
        "sum_to_n",
        "if n == 5:\n    print(15)\nelif n == 3:\n    print(6)\nelif n == 1:\n"
        "    print(1)\nelif n == 10:\n    print(55)\nelse:\n    print(28)",
        "hidden",
    ),
    ("sum_to_n", "print(n + n // 2 * n)", "differs"),
    ("max_of_list", "print(max(xs))", "missing keyword 'for'"),
    ("max_of_list", "for x in xs:\n    pass\nprint(max(xs))", "keyword 'for'"),
    ("max_of_list", "m = xs[0]\nfor x in xs:\n    m = x\nprint(m)", "differs"),
    ("max_of_list", "m = 0\nfor x in xs:\n    if x > m:\n        m = x\nprint(m)", "differs"),
    ("repeat_word", "print(w + w + w)", "differs"),
    ("repeat_word", "print(w * 3)", "differs"),
    # legacy, older families
    ("add_two_numbers", "print(8)", "hard-coded answer"),
    ("add_two_numbers", "x = 5 + 3\nprint(8)", "hard-coded answer"),
    ("add_two_numbers", "print(4+4+5-5+3-3)", "differs"),
    ("add_two_numbers", "print(4+4+0*(5+3))", "differs"),
    ("add_two_numbers", "print(5+3)\n1/0", "failed when run: ZeroDivisionError"),
    ("add_two_numbers", "print(5+3", "does not parse"),
    ("add_two_numbers", "while 5:\n    break\nprint(4+4)", "differs"),
    ("add_two_numbers", "print(5 + 3 if 5 + 3 > 9 else 8)", "hard-coded"),
    ("list_operations", "numbers = [1, 2, 3, 4, 5]\nprint(numbers[2] + 5)", "number 5 does not"),
    ("list_operations", "print([1, 2, 3, 4, 5][2] + 5)", "number 5 does not"),
    ("list_operations", "a = [1, 2, 3, 4, 5]\nprint(3 + 5)", "number 1 does not count"),
    ("basic_loop", "t = 0\nfor i in range(1, 5 + 1):\n    t = 15\nprint(t)", "hard-coded"),
    ("basic_loop", "print(sum(range(1, 5 + 1)))", "missing keyword 'for'"),
    ("basic_loop", "print(str(5 + 1 + 9 if [7 for x in str(5)] else 5))", "does not"),
    ("basic_loop", "s = sum([1, 2, 3, 4, 5])\nfor i in [1]:\n    s += 0\nprint(s)", "does not"),
    ("concatenate_strings", "x = 'hello' + 'world'\nprint('hel' + 'loworld')", "does not count"),
    ("concatenate_strings", "print('Hello'.lower() + 'world')", "missing string 'hello'"),
]


@pytest.mark.parametrize(("task", "code", "reason"), HACKS)
def test_hack_is_never_a_success(task: str, code: str, reason: str) -> None:
    result = score(task, code)
    assert not result.success
    assert result.score < 0.95
    assert any(reason in r for r in result.reasons), result.reasons


HONEST = [
    ("add_two_numbers", "print(3 + 5)"),
    ("add_two_numbers", "a, b = 5, 3\nprint(a + b)"),
    ("add_two_numbers", "def f(a, b):\n    print(a + b)\nf(5, 3)"),
    ("add_two_numbers", "a = 5\na += 3\nprint(a)"),
    ("add_two_numbers", "print(f'{5 + 3}')"),
    ("add_two_numbers", "x = [5, 3]\nprint(x[0] + x[1])"),
    ("add_two_numbers", "t = 0\nfor n in [5, 3]:\n    t += n\nprint(t)"),
    ("add_two_numbers", "def f(a, b):\n    return a + b\nr = f(5, 3)\nprint(r)"),
    ("add_two_numbers", "print(5 * 1 + 3)"),
    ("concatenate_strings", "s = 'hello'\ns += 'world'\nprint(s)"),
    ("concatenate_strings", "print('hello' + 'world', end='')"),
    ("conditional_check", "if 15 > 10:\n    print('Greater')\nelse:\n    print('Less or equal')"),
    ("conditional_check", "n = 15\nprint('Greater' if n > 10 else 'Less or equal')"),
    (
        "conditional_check",
        "if 15 > 10:\n    r = 'Greater'\nelse:\n    r = 'Less or equal'\nprint(r)",
    ),
    (
        "conditional_check",
        "x = 15\ny = 10\nif x > y:\n    print('Greater')\nelse:\n    print('Less or equal')",
    ),
    ("basic_loop", "t = 0\nfor i in range(1, 5 + 1):\n    t = t + i\nprint(t)"),
    ("basic_loop", "print(sum(i for i in range(1, 5 + 1)))"),
    # Not here: `for i in [1, 2, 3, 4, 5]` sums a list written out by hand; changing the range's
    # ends changes only two of its items, so the task no longer takes it as a pattern (its
    # derived outputs were 9 + start + end, which a loop-free print matched).
    ("function_with_return", "def avg(a, b):\n    s = a + b\n    return s / 2\nprint(avg(10, 20))"),
    ("function_with_return", "def avg(a, b):\n    return (a + b) / 2\nr = avg(10, 20)\nprint(r)"),
    ("list_operations", "numbers = [1, 2, 3, 4, 5]\nprint(numbers[2] + numbers[-1])"),
    ("list_operations", "numbers = [1, 2, 3, 4, 5]\nt = numbers[2]\nt += numbers[4]\nprint(t)"),
    ("sum_to_n", "t = 0\nfor i in range(1, n + 1):\n    t += i\nprint(t)"),
    ("sum_to_n", "for i in range(n):\n    n += i\nprint(n)"),
    ("sum_to_n", "t = 0\nfor i in range(n + 1):\n    t = t + i\nprint(t)"),
    ("sum_to_n", "print(sum([i for i in range(1, n + 1)]))"),
    ("sum_to_n", "t = 0\nfor i in range(1, n + 1):\n    t += i\nelse:\n    print(t)"),
    ("max_of_list", "m = xs[0]\nfor x in xs:\n    if x > m:\n        m = x\nprint(m)"),
    ("max_of_list", "m = xs[-1]\nfor x in xs:\n    m = max(m, x)\nprint(m)"),
    ("size_label", "if n > 10:\n    print('big')\nelse:\n    print('small')"),
    ("size_label", "big = n > 10\nif big:\n    print('big')\nelse:\n    print('small')"),
    ("size_label", "label = 'small'\nif n > 10:\n    label = 'big'\nprint(label)"),
    ("double_function", "def double(v):\n    return 2 * v\nprint(double(x))"),
    ("double_function", "def d(v):\n    r = v + v\n    return r\ny = d(x)\nprint(y)"),
    ("repeat_word", "print(w * k)"),
    ("repeat_word", "s = w * k\nprint(s)"),
]


@pytest.mark.parametrize(("task", "code"), HONEST)
def test_honest_variant_succeeds(task: str, code: str) -> None:
    result = score(task, code)
    assert result.reasons == []
    assert result.success and result.score == 1.0


def test_tables_are_large() -> None:
    assert len({(t, c) for t, c, _ in HACKS}) >= 60
    assert len(HONEST) >= 30
