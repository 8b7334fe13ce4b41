"""Tasks with test cases: loading, validation (every problem, in the sandbox), catalogue."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from trusted import run_trusted  # noqa: E402

from engine.errors import InputError  # noqa: E402
from engine.reward import from_run_many  # noqa: E402
from engine.tasks import TestCase, broken_task_files, load_task  # noqa: E402
from engine.validation import validate_task_file  # noqa: E402

IO = Path(__file__).resolve().parent.parent / "data" / "io_tasks"
FAKE = from_run_many(lambda codes: run_trusted(codes, 20_000))


def write(tmp_path: Path, data: dict, name: str = "t.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(data), encoding="utf-8")
    return p


def io_task(**crit: object) -> dict:
    d = json.loads((IO / "sum_to_n.json").read_text())
    d["success_criteria"].update(crit)
    return d


@pytest.mark.parametrize("path", sorted(IO.glob("*.json")), ids=lambda p: p.name)
def test_io_test_tasks_load_and_validate(path: Path) -> None:
    task = validate_task_file(path, FAKE)
    assert task.tests and task.input_names
    assert task.expected_output == task.tests[0].expected_output
    assert any(t.hidden for t in task.tests) and not all(t.hidden for t in task.tests)


def test_test_case_model_is_hashable_and_binds_fresh_values() -> None:
    task = load_task(IO / "max_of_list.json")
    assert task.input_names == ("xs",)
    case = task.tests[0]
    assert isinstance(case, TestCase) and case.inputs["xs"] == (3, 9, 2)
    a, b = case.bindings(), case.bindings()
    assert a == {"xs": [3, 9, 2]} and a["xs"] is not b["xs"]
    a["xs"].append(1)
    assert case.bindings() == {"xs": [3, 9, 2]}
    hash(task)
    assert load_task(IO / "sum_to_n.json").notes.startswith("Test data")


def test_structural_problems_are_all_reported(tmp_path: Path) -> None:
    d = io_task(tests=[
        {"inputs": {"for": 1}, "expected_output": "1"},
        {"inputs": {"len": 2}, "expected_output": 3},
        {"inputs": {"n": {"a": 1}}},
        {"inputs": {"n": 1}, "expected_output": "1", "hidden": "yes"},
    ])  # fmt: skip
    p = write(tmp_path, d)
    with pytest.raises(InputError) as err:
        load_task(p)
    lines = str(err.value).splitlines()
    assert lines[0].startswith(f"{p}: success_criteria.tests[0].inputs.for: ")
    text = str(err.value)
    for fragment in (
        "tests[1].inputs.len: 'len' is a Python builtin",
        "tests[1].expected_output: expected a string",
        "tests[2].inputs.n: expected an int, float, string",
        "tests[2].expected_output: missing field",
        "tests[3].hidden: expected true or false",
    ):
        assert fragment in text, text
    assert all(line.startswith(str(p)) for line in lines)


def test_top_level_expected_output_must_match_the_first_case(tmp_path: Path) -> None:
    p = write(tmp_path, io_task(expected_output="16"))
    with pytest.raises(InputError, match="success_criteria.expected_output: expected '15'"):
        load_task(p)
    assert load_task(write(tmp_path, io_task(expected_output="15"), "ok.json")).tests


def test_every_case_hidden_is_refused(tmp_path: Path) -> None:
    d = io_task(tests=[{"inputs": {"n": 1}, "expected_output": "1", "hidden": True}])
    with pytest.raises(InputError, match="at least one must be visible"):
        load_task(write(tmp_path, d))


def test_validation_lists_every_failing_pattern_and_case(tmp_path: Path) -> None:
    d = io_task(valid_patterns=[
        {"pattern": "print(n * (n + 1) // 2)"},
        {"pattern": ["t = 0", "for i in range(n):", "    t += i", "print(t)"]},
    ])  # fmt: skip
    p = write(tmp_path, d)
    with pytest.raises(InputError) as err:
        validate_task_file(p, FAKE)
    text = str(err.value)
    assert "valid_patterns[0].pattern: lacks required keyword 'for'" in text
    assert "valid_patterns[1].pattern: prints '10' on test case 0, expected '15'" in text
    assert len(text.splitlines()) >= 6  # one line per failing case of pattern 1, and more


def test_validation_runs_patterns_in_the_sandbox(tmp_path: Path) -> None:
    target = tmp_path / "written.txt"
    d = io_task(valid_patterns=[{"pattern": [
        f"open({str(target)!r}, 'w').write('x')", "t = 0", "for i in range(1, n + 1):",
        "    t += i", "print(t)",
    ]}])  # fmt: skip
    with pytest.raises(InputError, match="fails when run"):
        validate_task_file(write(tmp_path, d))  # the real sandbox: no open()
    assert not target.exists()


def test_broken_task_files_are_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALTLAS_HOME", str(tmp_path))
    folder = tmp_path / "data" / "tasks"
    folder.mkdir(parents=True)
    (folder / "bad.json").write_text("{not json")
    write(folder, io_task(), "fine.json")
    broken = broken_task_files()
    assert [p.name for p, _ in broken] == ["bad.json"]
    assert "invalid JSON" in broken[0][1]
