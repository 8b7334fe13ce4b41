"""The reward: success only for real solutions, useful partial credit, the contract's JSON."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from pathlib import Path as _P

import pytest

from engine.scorer import ScoreWeights, TaskScorer, output_similarity, score_program

sys.path.insert(0, str(_P(__file__).parent / "reward"))
from trusted import run_trusted  # noqa: E402

from engine.tasks import list_tasks, load_task, normalise_output  # noqa: E402

# Python tasks: these run patterns through Python fakes; JavaScript tasks: tests/js
PY_TASKS = [t for t in list_tasks() if t.target_language == "python"]
SHIPPED = [(t.name, p) for t in PY_TASKS for p in t.valid_patterns]


class CountingRunner:
    """In-process fake of `Sandbox.run_many` that records its calls."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, codes: list[str]):
        self.calls.append(list(codes))
        return run_trusted(codes)


@dataclass
class Fixed:
    status: str
    stdout: str
    error: str = ""
    duration: float = 0.0


@pytest.mark.parametrize(
    ("task", "code"), SHIPPED, ids=[f"{t}-{i}" for i, (t, _) in enumerate(SHIPPED)]
)
def test_every_valid_pattern_of_every_shipped_task_is_a_success(task: str, code: str) -> None:
    result = score_program(load_task(task), code, run_many=run_trusted)
    assert result.reasons == []
    assert result.success and result.score == 1.0
    assert result.status == "ok"


def test_shipped_patterns_succeed_in_the_real_sandbox() -> None:
    sandbox = pytest.importorskip("engine.sandbox")
    tasks = PY_TASKS
    with sandbox.Sandbox() as sb:
        for task in tasks:
            scorer = TaskScorer(task)
            results = scorer.score_many(list(task.valid_patterns), sb.run_many)
            assert [r.reasons for r in results] == [[] for _ in results], task.name
            assert all(r.success for r in results)


@pytest.mark.parametrize(
    "code",
    ["print(5+3)", "print(5-3)", "print(8)", "print(5+3.0)", "x = 1", "print(5+", "1/0"],
)
def test_components_add_up_to_the_score(code: str) -> None:
    r = score_program(load_task("add_two_numbers"), code, run_many=run_trusted)
    assert sum(r.components.values()) == pytest.approx(r.score, abs=1e-5)
    assert 0.0 <= r.score <= 1.0


def test_partial_credit_ordering_add() -> None:
    task = load_task("add_two_numbers")
    scorer = TaskScorer(task)
    ladder = [
        "print(5+",  # does not parse
        "x = 1",  # parses, runs, prints nothing
        "print('a')",  # prints something unrelated
        "print(1)",  # a number, far off
        "print(5)",  # uses a required number, closer
        "print(5-3)",  # two constraints, a number near the answer
        "print(5*3-7)",  # right output, missing '+'
        "print(5+3)",  # success
    ]
    scores = [r.score for r in scorer.score_many(ladder, run_trusted)]
    assert scores == sorted(scores), list(zip(ladder, scores, strict=True))
    assert len(set(scores)) == len(scores)
    assert scores[0] == 0.0 and scores[-1] == 1.0


def test_right_output_with_missing_constraint_beats_nothing_printed() -> None:
    scorer = TaskScorer(load_task("basic_loop"))
    silent, right = scorer.score_many(
        ["t = 0\nfor i in range(1, 5 + 1):\n    t += i", "print(sum(range(1, 5 + 1)))"], run_trusted
    )
    assert right.score > silent.score
    assert "prints nothing" in silent.reasons


def test_status_from_execution() -> None:
    task = load_task("add_two_numbers")
    scorer = TaskScorer(task)

    def timeout(codes: list[str]):
        return [Fixed("timeout", "8\n", "Timeout") for _ in codes]

    r = scorer.score_many(["print(5+3)"], timeout)[0]
    assert not r.success and r.status == "timeout" and "timed out" in r.reasons
    assert r.components["runs"] == 0.0

    def rejected(codes: list[str]):
        return [Fixed("rejected", "", "import of os is not allowed") for _ in codes]

    r = scorer.score_many(["import os\nprint(5+3)"], rejected)[0]
    assert r.status == "rejected" and r.score < 0.9
    assert any("rejected by the sandbox" in x for x in r.reasons)


def test_hard_coded_literal_allowed_when_the_patterns_use_it() -> None:
    r = score_program(load_task("conditional_check"), "print('Greater')", run_many=run_trusted)
    assert not r.success
    assert not any("hard-coded" in x for x in r.reasons)
    assert r.components["output"] > 0


def test_case_and_whitespace_rules(tmp_path: Path) -> None:
    base = load_task("conditional_check")
    loose = replace(base, case_sensitive=False)
    assert normalise_output("GREATER \n", loose) == "greater"
    code = "if 15 > 10:\n    print('GREATER')\nelse:\n    print('Less or equal')"
    assert score_program(loose, code, run_many=run_trusted).success
    assert not score_program(base, code, run_many=run_trusted).success
    spaced = "if 15 > 10:\n    print(' Greater ')\nelse:\n    print('Less or equal')"
    assert score_program(base, spaced, run_many=run_trusted).success
    strict = replace(base, whitespace_sensitive=True)
    assert not score_program(strict, spaced, run_many=run_trusted).success


def test_history_task_without_constraints() -> None:
    path = (
        Path(__file__).parent
        / "data"
        / "reference_tasks"
        / "history"
        / "2654721_add_two_numbers.json"
    )
    task = load_task(path)
    assert score_program(task, "print(5+3)", run_many=run_trusted).success
    hard = score_program(task, "print(8)", run_many=run_trusted)
    assert not hard.success and any("hard-coded" in r for r in hard.reasons)


def test_weights_are_configurable() -> None:
    task = load_task("add_two_numbers")
    plain = TaskScorer(task).score_many(["print(5-3)"], run_trusted)[0]
    heavy = TaskScorer(task, ScoreWeights(constraints=0.6, output=0.0)).score_many(
        ["print(5-3)"], run_trusted
    )[0]
    assert heavy.components["constraints"] == pytest.approx(0.4)
    assert heavy.components["output"] == 0.0
    assert heavy.score != plain.score


def test_output_similarity() -> None:
    assert output_similarity("8", "8") == 1.0
    assert output_similarity("", "8") == 0.0
    assert 0.8 < output_similarity("8.0", "8") < 1.0
    assert output_similarity("7", "8") > output_similarity("2", "8") > output_similarity("x", "8")
    assert output_similarity("helloworl", "helloworld") > output_similarity("hello", "helloworld")
    assert output_similarity("a" * 100_000, "helloworld") < 0.1  # long output stays cheap


FRAGMENTS = [
    "x = {n}",
    "y = x + {m}",
    "x += {n}",
    "print(x)",
    "print({n} + {m})",
    "print({n} - {m} * x)",
    "for i in range({n}):\n    x += i",
    "for i in []:\n    print({n})",
    "if x > {n}:\n    print('Greater')\nelse:\n    print('Less or equal')",
    "def f(a, b):\n    return (a + b) / {m}",
    "def g():\n    pass",
    "print(f({n}, {m}))",
    "while x < {n}:\n    x += 1",
    "z = [x, {n}, {m}]",
    "print(z[{m}])",
    "s = 'hello' + 'world'",
    "print(s)",
    "print(x if {n} else y)",
    "x = {n} or {m}",
    "lst = [1, 2, 3, 4, 5]",
    "print(lst[2] + lst[4])",
    "print(sum([i for i in range(1, {n} + 1)]))",
    "pass",
    "print({n} > {m} and 'Greater')",
    "print(str({n}) + 'world')",
]


@pytest.mark.parametrize("task_name", [t.name for t in PY_TASKS])
def test_scorer_invariants_on_random_programs(task_name: str) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    scorer = TaskScorer(load_task(task_name))

    def runner(codes: list[str]):
        return run_trusted(codes, max_steps=2_000)

    fragment = st.tuples(
        st.sampled_from(FRAGMENTS),
        st.sampled_from([0, 1, 2, 3, 5, 10, 15, 20]),
        st.integers(-3, 20),
    ).map(lambda t: t[0].format(n=t[1], m=t[2]))

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.lists(fragment, min_size=1, max_size=5))
    def check(lines: list[str]) -> None:
        code = "\n".join(lines)
        (r,) = scorer.score_many([code], runner)
        assert 0.0 <= r.score <= 1.0
        assert sum(r.components.values()) == pytest.approx(r.score, abs=1e-5)
        if r.success:
            assert r.score == 1.0 and r.reasons == [] and r.status == "ok"
            assert normalise_output(r.stdout, scorer.task) == scorer.expected
        else:
            assert r.score <= 0.9 and r.reasons

    check()


def test_negative_required_number(tmp_path: Path) -> None:
    from engine.validation import validate_task_file

    data = {
        "name": "neg",
        "description": "print 5 plus minus 3",
        "success_criteria": {
            "expected_output": "2",
            "valid_patterns": [
                {"pattern": "print(5 + -3)", "variations": ["x = -3\nprint(x + 5)"]}
            ],
        },
        "constraints": {"required_operators": ["+"], "required_numbers": [5, -3]},
    }
    path = tmp_path / "neg.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    task = validate_task_file(path)
    scorer = TaskScorer(task)
    ok, wrong, dead = scorer.score_many(
        ["print(-3 + 5)", "print(5 - 3)", "x = -3\nprint(5 + 1 - 4)"], run_trusted
    )
    assert ok.success, ok.reasons
    assert "missing number -3" in wrong.reasons
    assert "number -3 does not count: it cannot affect the output" in dead.reasons
