"""Loop iteration counts: instrumented programs run in the sandbox, counts per case come back
with the results, and the label says how the loops behave over the cases."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.reward import TaskScorer
from engine.reward.facts import Facts
from engine.reward.loops import _by_text, behaviour, input_sizes, instrument, loop_nodes
from engine.sandbox import Sandbox
from engine.tasks import load_task

DATA = Path(__file__).resolve().parent.parent / "data"
SUM = DATA / "io_tasks" / "sum_to_n.json"  # n = 5, 3, 1, 10, 7 visible; 12 hidden
LOOP = DATA / "reference_tasks" / "benchmark_basic_loop.json"  # legacy: cases vary 1 and 5


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


@pytest.fixture(scope="module")
def scorer() -> TaskScorer:
    return TaskScorer(load_task(SUM))


def _score(scorer: TaskScorer, sb: Sandbox, *codes: str):
    return scorer.score_many(list(codes), sb)


def test_counts_for_while_and_nested_loops(scorer, sb):
    plain, wh, nested, same_line = _score(
        scorer,
        sb,
        "x = 0\nfor i in range(n + 1):\n    x += i\nprint(x)",
        "x = 0\nk = 0\nwhile k < n:\n    k += 1\n    x += k\nprint(x)",
        "x = 0\nfor i in range(n):\n    for j in range(i + 1):\n        x += 1\nprint(x)",
        "x = 0\nfor i in range(n): x += 1\nprint(x * 2)",
    )
    ns = (5, 3, 1, 10, 7)
    assert plain.iterations == tuple(n + 1 for n in ns) and plain.loops == "grows"
    assert plain.success
    assert wh.iterations == ns and wh.loops == "grows"
    # outer n passes + inner 1 + 2 + ... + n
    assert nested.iterations == tuple(n + n * (n + 1) // 2 for n in ns)
    assert nested.loops == "grows" and nested.success  # the instrumentation changes no output
    assert same_line.iterations == ns  # body on the header's line: counted through the tree


def test_one_element_list_is_once_and_a_literal_range_is_constant(scorer, sb):
    once, const, free, broken = _score(
        scorer,
        sb,
        "for n in [n]:\n    print(n * (n + 1) // 2)",
        "x = 0\nfor i in range(4):\n    x += i\nprint(x + n)",
        "print(n * (n + 1) // 2)",
        "for i in range(n):\n    print(1 // 0)",
    )
    assert once.loops == "once" and once.iterations == (1,) * 5
    assert const.loops == "constant" and const.iterations == (4,) * 5
    assert free.loops == "none"  # no loop at all: known without running counters
    assert broken.loops == "unknown" and broken.iterations == (None,) * 5  # failed every case


def test_digit_loop_varies_but_does_not_grow(scorer, sb):
    # n = 5, 3, 1, 10, 7: one pass per digit gives 1, 1, 1, 2, 1 -- it varies, but the count
    # does not grow with n (7 > 5 > 3 with the same count), so it is no "grows" loop
    (digits,) = _score(scorer, sb, "x = 0\nfor c in str(n):\n    x += n\nprint(x)")
    assert digits.iterations == (1, 1, 1, 2, 1)
    assert digits.loops == "varies"


def test_tampering_with_the_counters_gives_unknown_and_no_crash(sb):
    scorer = TaskScorer(load_task(SUM))
    progs = [
        # strict tier (globals()): reaches the counters without naming them in the text
        "for i in range(n):\n    pass\nglobals()['altlas' + 'i'] = [10 ** 80]\nprint(n)",
        "for i in range(n):\n    pass\nglobals()['altlas' + 'i'] = 'x' * 9\nprint(n)",
        "for i in range(n):\n    pass\nglobals()['altlas' + 'i'] = list(range(10 ** 5))\nprint(n)",
        "for i in range(n):\n    pass\nglobals()['altlas' + 'i'] = [1, 2, 3]\nprint(n)",
        "for i in range(n):\n    pass\nglobals()['altlas' + 'i'] = [True]\nprint(n)",
        # names the counters itself: not instrumented at all
        "altlasi = [7]\nfor i in range(n):\n    altlasi[0] += 1\nprint(n)",
    ]
    results = scorer.score_many(progs, sb)
    for r in results:
        assert r.loops == "unknown", r
        assert r.status == "ok" and r.stdout.strip()
    assert scorer.analyse(progs[-1]).loops is None


def test_counting_off_runs_the_program_as_written(sb):
    scorer = TaskScorer(load_task(SUM))
    scorer.count_loops = False
    code = "x = 0\nfor i in range(n + 1):\n    x += i\nprint(x)"
    (r,) = scorer.score_many([code], sb)
    assert r.success and r.loops == "unknown" and r.iterations is None
    assert "altlasi" not in scorer.analyse(code).exec_src


def test_legacy_cases_grow_with_the_value_that_changes_alone(sb):
    scorer = TaskScorer(load_task(LOOP))
    grows, fixed = scorer.score_many(
        [
            "total = 0\nfor i in range(1, 5 + 1):\n    total += i\nprint(total)",
            "total = 0\nfor i in [1, 2, 3, 4, 5]:\n    total += i\nprint(total)",
        ],
        sb,
    )
    # counts 5, 6, 5, 13, 1 on (1, 5), (2, 6), (5, 5), (1, 13), (1, 1): among the cases that
    # change only the 5 (5 -> 13 -> 1) the count follows it
    assert grows.iterations == (5, 6, 5, 13, 1) and grows.loops == "grows"
    assert fixed.loops == "constant"


def test_behaviour_rules():
    sizes = input_sizes([{"n": 5}, {"n": 3}, {"n": 1}, {"n": 10}])
    assert behaviour([(5,), (3,), (1,), (10,)], sizes) == "grows"
    assert behaviour([(1,), (1,), (1,), (2,)], sizes) == "varies"  # digits of n
    assert behaviour([(2,), (4,), (6,), (0,)], sizes) == "varies"  # shrinks as n grows
    assert behaviour([(0,), (0,), (0,), (0,)], sizes) == "none"
    assert behaviour([None, None, None, None], sizes) == "unknown"
    assert behaviour([(5,), None, (1,), (10,)], sizes) == "grows"  # unknown cases left out
    # the program's label is its most input-dependent loop
    assert behaviour([(1, 5), (1, 3), (1, 1), (1, 10)], sizes) == "grows"
    assert behaviour([(1, 5), (1,), (1, 1), (1, 10)], sizes) == "unknown"  # inconsistent
    # a string input grows by its length
    words = input_sizes([{"s": "ab"}, {"s": "abcd"}, {"s": "a"}])
    assert behaviour([(2,), (4,), (1,)], words) == "grows"


def test_instrument_by_text_and_by_tree_keep_the_tree():
    code = "x = 0\nfor i in range(3):\n    x += i\n    while x > 100: x -= 1\nprint(x)"
    tree = ast.parse(code)
    facts = Facts(tree, [], {})
    loops = loop_nodes(facts.stmts)
    assert [type(n) for n in loops] == [ast.For, ast.While]
    before = ast.dump(tree)
    text = instrument(code, tree, loops, same_lines=True)
    assert ast.dump(tree) == before  # the tree is shared with the liveness variants
    assert text.startswith("altlasi = [0] * 2\n")
    assert "    altlasi[0] += 1\n    x += i" in text
    assert ast.dump(ast.parse(text))  # still a program
    by_tree = instrument(code, tree, loops, same_lines=False)
    assert ast.dump(tree) == before
    assert by_tree.count("altlasi[1] += 1") == 1 and by_tree.count("altlasi[0] += 1") == 1


def test_loop_credit_only_for_growing_loops_on_loop_tasks(sb):
    from engine.reward import ScoreWeights

    loop_task = TaskScorer(load_task(SUM), ScoreWeights(loop_credit=0.03))
    ranged, digits, solved = loop_task.score_many(
        [
            "for i in range(n):\n    print(1)",
            "for c in str(n):\n    print(1)",
            "x = 0\nfor i in range(n + 1):\n    x += i\nprint(x)",
        ],
        sb,
    )
    assert ranged.components["loops"] == 0.03 and digits.components["loops"] == 0.0
    assert solved.success and solved.score == 1.0
    plain = TaskScorer(load_task(SUM)).score_many(["for i in range(n):\n    print(1)"], sb)[0]
    assert "loops" not in plain.components  # off by default: the breakdown is unchanged
    assert ranged.score == pytest.approx(plain.score + 0.03)
    # a task that asks for no loop construct gives no loop credit
    other = TaskScorer(
        load_task(DATA / "io_tasks" / "double_function.json"), ScoreWeights(loop_credit=0.03)
    )
    (r,) = other.score_many(["for i in range(abs(x)):\n    print(x * 2)"], sb)
    assert r.loops == "grows" and r.components["loops"] == 0.0


def test_instrumenting_odd_line_breaks_goes_through_the_tree(sb):
    # `\x1c` ends a line for str.splitlines but not for Python: inserted by line number, the
    # counter would land in the header's comment and count nothing
    scorer = TaskScorer(load_task(SUM))
    code = "x = 0\nfor i in range(n + 1):  # \x1c\n    x += i\nprint(x)"
    (r,) = scorer.score_many([code], sb)
    assert r.success and r.loops == "grows"
    assert scorer.analyse(code).exec_src.count("altlasi") == 2
    # wherever such a character is, text insertion is not tried (the tree path is used)
    odd = "x = 0\nfor i in range(n):\n    x += i\nprint(x)  # \x1c\n"
    tree = ast.parse(odd)
    loops = loop_nodes(Facts(tree, [], {}).stmts)
    assert _by_text(odd, loops) is None
    assert _by_text(odd.replace("\x1c", ""), loops) is not None
