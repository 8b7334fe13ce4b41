"""JavaScript versions of IO benchmarks (tasks/js/js_*.json with test cases): they load and
validate, keep the Python version's cases, and honest hand-written programs score 1.0."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.config import SandboxConfig
from engine.errors import InputError
from engine.languages.javascript import JSRunner, find_node
from engine.tasks import load_task
from engine.validation import validate_task_file

ROOT = Path(__file__).resolve().parents[2]
PROGS = ROOT / "tests" / "data" / "js" / "programs"
IO_TASKS = ("add_inputs", "double_number", "sum_to_n", "even_or_odd")

pytestmark = pytest.mark.skipif(find_node() is None, reason="node is not installed")


@pytest.fixture(scope="module")
def runner() -> Iterator[JSRunner]:
    with JSRunner(SandboxConfig(workers=1)) as js:
        yield js


@pytest.mark.parametrize("name", IO_TASKS)
def test_js_io_task_loads_validates_and_keeps_the_python_cases(runner: JSRunner, name: str):
    task = load_task(f"js_{name}")
    assert task.target_language == "javascript" and task.path is not None
    assert validate_task_file(task.path, runner) == task
    py = load_task(name)
    assert [(t.inputs, t.expected_output, t.hidden) for t in task.tests] == [
        (t.inputs, t.expected_output, t.hidden) for t in py.tests
    ]
    assert any(t.hidden for t in task.tests)


@pytest.mark.parametrize("name", IO_TASKS)
def test_honest_js_solution_scores_one_through_score(name: str):
    out = subprocess.run(
        [sys.executable, "-m", "altlas_tui.cli", "score", "--task", f"js_{name}",
         str(PROGS / f"{name}.js"), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["success"] is True and data["score"] == 1.0, data["reasons"]
    assert all(c["passed"] for c in data["cases"]) and any(c["hidden"] for c in data["cases"])


def test_a_solution_wrong_on_a_hidden_case_fails(runner: JSRunner):
    from engine.languages.scoring import score_programs

    task = load_task("js_even_or_odd")
    wrong = (PROGS / "even_or_odd_wrong.js").read_text(encoding="utf-8")  # -3 % 2 is -1 in JS
    no_loop = "console.log(n * (n + 1) / 2);"
    (r,) = score_programs(task, [wrong], runner=runner)
    assert not r.success and r.case_counts == (4, 4, 1, 2) and r.score < 0.95
    (r,) = score_programs(load_task("js_sum_to_n"), [no_loop], runner=runner)
    assert not r.success and any("keyword 'for'" in x for x in r.reasons), r.reasons


def test_a_pattern_wrong_on_one_case_is_refused(runner: JSRunner, tmp_path: Path):
    data = json.loads((ROOT / "tasks" / "js" / "js_double_number.json").read_text())
    data["success_criteria"]["valid_patterns"].append(
        {"type": "wrong", "pattern": "console.log(n < 0 ? n : n * 2);"}
    )
    path = tmp_path / "js_bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as err:
        validate_task_file(path, runner)
    assert "valid_patterns[3]" in str(err.value) and "on test case 2" in str(err.value)


def test_an_input_named_like_a_js_keyword_is_refused(runner: JSRunner, tmp_path: Path):
    data = json.loads((ROOT / "tasks" / "js" / "js_double_number.json").read_text())
    crit = data["success_criteria"]
    for case in crit["tests"]:
        case["inputs"] = {"let": case["inputs"]["n"]}
    crit["valid_patterns"] = [{"type": "direct", "pattern": "console.log(2);"}]
    path = tmp_path / "js_let.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as err:
        validate_task_file(path, runner)
    assert "tests[0].inputs.let" in str(err.value) and "reserved" in str(err.value)
