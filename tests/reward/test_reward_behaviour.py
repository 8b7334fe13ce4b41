"""How the reward behaves: patterns accepted, batching, hidden cases, breakdown, case records."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from trusted import CountingRunner, run_trusted  # noqa: E402

from engine.reward import ScoreWeights, TaskScorer, from_run_many  # noqa: E402
from engine.tasks import (  # noqa: E402
    list_tasks,
    load_task,
    missing_constraints,
    normalise_output,
    read_task_file,
)

DATA = Path(__file__).resolve().parent.parent / "data"
IO = DATA / "io_tasks"
REFERENCE = DATA / "reference_tasks"


def fake(codes: list[str]):
    return run_trusted(codes, 20_000)


def _consistent_patterns(task) -> list[str]:
    """Patterns that contain every constraint and print the expected output as written (the
    reference files carry some that do not; validation reports those)."""
    import ast

    out = []
    for src in task.valid_patterns:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        if task.tests:  # validation checks these on every case (test_tasks_io.py)
            out.append(src)
            continue
        r = run_trusted([src])[0]
        if missing_constraints(task, tree) or r.status != "ok":
            continue
        if normalise_output(r.stdout, task) == normalise_output(task.expected_output, task):
            out.append(src)
    return out


PATTERN_TASKS = (
    [t.path for t in list_tasks() if t.target_language == "python"]
    + [  # JS: tests/js
        str(p) for p in sorted(REFERENCE.rglob("*.json")) if "_js_" not in p.name
    ]
    + [str(p) for p in sorted(IO.glob("*.json"))]
)


@pytest.mark.parametrize("path", PATTERN_TASKS, ids=lambda p: Path(p).name)
def test_every_consistent_valid_pattern_is_accepted(path: str) -> None:
    task = read_task_file(path)
    patterns = _consistent_patterns(task)
    if "reference" not in path:
        assert len(patterns) == len(task.valid_patterns)  # shipped and test tasks: all of them
    for code, result in zip(patterns, TaskScorer(task).score_many(patterns, fake), strict=True):
        assert result.success and result.score == 1.0, (code, result.reasons)


def test_runner_calls_per_batch_and_cases_compiled_together() -> None:
    runner = CountingRunner()
    scorer = TaskScorer(load_task(IO / "sum_to_n.json"))
    codes = ["t = 0\nfor i in range(1, n + 1):\n    t += i\nprint(t)", "print(n)", "print(n +"]
    scorer.score_many(codes, runner.run_many)
    assert runner.calls == 3  # patterns once per task, programs, variants
    before = runner.calls
    scorer.score_many(["print(n * 2)", "for i in range(n):\n    n += i\nprint(n)"], runner.run_many)
    assert runner.calls == before + 2
    before = runner.calls
    scorer.score_many(["print(n +"], runner.run_many)  # nothing parses: nothing runs
    assert runner.calls == before


def test_run_cases_is_preferred_when_the_sandbox_has_it() -> None:
    calls: list[tuple[int, int]] = []
    inner = from_run_many(fake)

    class Box:
        def run_cases(self, codes, cases, timeout=None):
            calls.append((len(codes), len(cases)))
            return inner(codes, cases)

        def run_many(self, codes, timeout=None):  # pragma: no cover - must not be used
            raise AssertionError("run_many used although run_cases exists")

    box = Box()
    result = TaskScorer(load_task(IO / "double_function.json")).score_many(
        ["def d(v):\n    return v * 2\nprint(d(x))"], box.run_many
    )[0]
    assert result.success
    assert calls and all(n_cases in (5, 4) for _, n_cases in calls)


def _with_hidden_expected(tmp_path: Path, value: str) -> Path:
    data = json.loads((IO / "sum_to_n.json").read_text())
    data["success_criteria"]["tests"][-1]["expected_output"] = value
    data["success_criteria"]["valid_patterns"] = []
    p = tmp_path / f"h{value}.json"
    p.write_text(json.dumps(data))
    return p


def test_hidden_cases_never_enter_the_score_only_success(tmp_path: Path) -> None:
    code = "t = 0\nfor i in range(1, n + 1):\n    t += i\nprint(t)"
    right = TaskScorer(load_task(_with_hidden_expected(tmp_path, "78"))).score_many([code], fake)[0]
    wrong = TaskScorer(load_task(_with_hidden_expected(tmp_path, "77"))).score_many([code], fake)[0]
    assert right.success and not wrong.success
    assert right.case_counts == (5, 5, 1, 1) and wrong.case_counts == (5, 5, 0, 1)
    assert wrong.score < 1.0
    without_success = {k: v for k, v in right.components.items() if k != "success"}
    assert without_success == {k: v for k, v in wrong.components.items() if k in without_success}


def test_constant_program_earns_at_most_its_share_of_cases() -> None:
    scorer = TaskScorer(load_task(IO / "sum_to_n.json"))
    r = scorer.score_many(["print(15)"], fake)[0]
    assert r.case_counts[:2] == (1, 5)
    w = ScoreWeights()
    assert r.components["output"] == pytest.approx(w.output / 5)
    assert r.components["closeness"] <= w.closeness


def test_breakdown_adds_up_and_non_success_stays_below_success() -> None:
    scorer = TaskScorer(load_task(IO / "sum_to_n.json"), ScoreWeights(length=0.002))
    codes = ["print(n * (n + 1) // 2)", "t = 0\nfor i in range(1, n + 1):\n    t += i\nprint(t)"]
    fit, loop = scorer.score_many(codes, fake, [12, 21])
    for r in (fit, loop):
        assert sum(r.components.values()) == pytest.approx(r.score, abs=1e-5)
    assert loop.success and loop.score == 1.0
    assert not fit.success and fit.score < 0.95
    assert fit.components["length"] == pytest.approx(-0.024)


def test_to_json_has_the_contract_shape_with_cases() -> None:
    r = TaskScorer(load_task(IO / "size_label.json")).score_many(["print('big')"], fake)[0]
    d = r.to_json()
    assert set(d) == {"task", "score", "success", "components", "reasons", "stdout", "status",
                      "cases"}  # fmt: skip
    assert len(d["cases"]) == 6
    first = d["cases"][0]
    assert first == {"inputs": {"n": 15}, "expected": "big", "got": "big\n", "passed": True,
                     "hidden": False}  # fmt: skip
    assert [c["passed"] for c in d["cases"]] == [True, False, False, True, False, True]
    assert sum(c["hidden"] for c in d["cases"]) == 2
    json.dumps(d)


def test_legacy_cases_are_derived_and_some_are_hidden() -> None:
    scorer = TaskScorer(load_task("add_two_numbers"))
    r = scorer.score_many(["print(5 + 3)"], fake)[0]
    labels = [c.label for c in scorer.expect.cases]
    assert labels[0] == "as written" and "scaled up" in labels
    assert r.cases[0].inputs == {"5": 5, "3": 3} and r.cases[0].expected == "8"
    assert r.case_counts[3] >= 1 and r.case_counts[2] == r.case_counts[3]


def test_cache_is_bounded() -> None:
    scorer = TaskScorer(load_task("add_two_numbers"))
    scorer.cache_size = 5
    scorer.score_many([f"print(5 + 3 + {i} - {i})" for i in range(12)], fake)
    assert len(scorer._analyses) <= 5
