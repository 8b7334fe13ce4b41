"""Task loading: the prototype's files unchanged, our shipped set strictly valid, clear errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.tasks import (
    Task,
    canonical_name,
    list_tasks,
    load_task,
    normalise_output,
    read_task_file,
    task_path,
)
from engine.validation import task_problems, validate_task_file

# Unchanged copies of the prototype's task files (../shared/reference-tasks in the workspace).
REFERENCE = Path(__file__).resolve().parent / "data" / "reference_tasks"
SHIPPED = Path(__file__).resolve().parent.parent / "tasks" / "benchmarks"
SIX = [
    "add_two_numbers",
    "basic_loop",
    "concatenate_strings",
    "conditional_check",
    "function_with_return",
    "list_operations",
]
needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason="reference tasks not present")


def write(tmp_path: Path, data: object, name: str = "t.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return p


def minimal(**over: object) -> dict:
    d: dict = {
        "name": "x",
        "description": "print the sum of 5 and 3",
        "target_language": "python",
        "success_criteria": {
            "expected_output": "8",
            "valid_patterns": [{"pattern": "print(5+3)", "variations": [["a=5", "print(a+3)"]]}],
            "case_sensitive": True,
            "whitespace_sensitive": False,
        },
        "constraints": {"required_operators": ["+"], "required_numbers": [5, 3], "max_tokens": 20},
        "difficulty": "beginner",
    }
    d.update(over)
    return d


# ---- the prototype's files load unchanged -------------------------------------------------


@needs_reference
@pytest.mark.parametrize(
    "path", sorted(REFERENCE.rglob("*.json")), ids=lambda p: p.relative_to(REFERENCE).as_posix()
)
def test_reference_files_load_structurally(path: Path) -> None:
    task = read_task_file(path)
    assert task.expected_output in ("8", "15", "helloworld", "Greater", "15.0")
    assert task.supported  # Python and (engine.languages) JavaScript
    assert load_task(str(path)) == task


def test_unsupported_language_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, minimal(target_language="ruby"), "rb.json")
    assert not read_task_file(path).supported
    with pytest.raises(InputError) as err:
        load_task(path)
    assert str(err.value) == (
        f"{path}: target_language: target_language 'ruby' is not supported yet "
        "(supported: python, javascript)"
    )


@needs_reference
def test_history_forms() -> None:
    old = load_task(REFERENCE / "history" / "2654721_add_two_numbers.json")
    assert old.expected_output == "8" and old.max_tokens == 40 and old.valid_patterns == ()
    assert old.target_language == "python" and old.constraint_count() == 0
    newer = load_task(REFERENCE / "history" / "e1eb8ad_benchmark_add_two_numbers.json")
    assert newer.max_tokens == 20 and newer.case_sensitive


@needs_reference
def test_reference_patterns_become_sources() -> None:
    task = load_task(REFERENCE / "benchmark_add_two_numbers.json")
    assert task.name == "add_two_numbers"
    assert task.valid_patterns[0] == "print(5+3)"
    assert "x=5\ny=3\nprint(x+y)" in task.valid_patterns
    assert len(task.valid_patterns) == 4 + 3 + 1
    assert task.required_operators == ("+",) and task.required_numbers == (5, 3)


@needs_reference
@pytest.mark.parametrize(
    ("name", "field", "fragment"),
    [
        ("basic_loop", "success_criteria.valid_patterns[0].pattern", "lacks required number 5"),
        (
            "concatenate_strings",
            "success_criteria.valid_patterns[2].pattern",
            "lacks required operator '+'",
        ),
        (
            "list_operations",
            "success_criteria.valid_patterns[2].pattern",
            "lacks required operator '+'",
        ),
    ],
)
def test_reference_inconsistencies_are_reported_strictly(
    name: str, field: str, fragment: str
) -> None:
    path = REFERENCE / f"benchmark_{name}.json"
    load_task(path)  # loading accepts it
    with pytest.raises(InputError) as err:
        validate_task_file(path)
    with pytest.raises(InputError) as err_strict:
        validate_task_file(task_path(str(path)))
    assert str(err_strict.value) == str(err.value)
    msg = str(err.value)
    assert msg.startswith(f"{path}: {field}: {fragment}")
    # every further problem on its own line, each naming the file and field
    assert all(line.startswith(f"{path}: ") for line in msg.splitlines())


# ---- our shipped set --------------------------------------------------------------------


def test_shipped_set_is_the_six_python_tasks() -> None:
    names = [t.name for t in list_tasks()]
    assert [n for n in names if n in SIX] == SIX  # the IO benchmarks live in tasks/io/
    assert sorted(p.name for p in SHIPPED.glob("*.json")) == [f"benchmark_{n}.json" for n in SIX]
    assert not (SHIPPED / ".keep").exists()


@pytest.mark.parametrize("name", SIX)
def test_shipped_tasks_pass_strict_validation(name: str) -> None:
    task = validate_task_file(SHIPPED / f"benchmark_{name}.json")
    assert task_problems(task) == []
    assert task.valid_patterns


@needs_reference
@pytest.mark.parametrize("name", SIX)
def test_shipped_tasks_keep_the_originals_intent(name: str) -> None:
    ours = load_task(name)
    theirs = load_task(REFERENCE / f"benchmark_{name}.json")
    assert ours.expected_output == theirs.expected_output
    assert ours.max_tokens == theirs.max_tokens
    assert ours.required_numbers == theirs.required_numbers
    assert ours.required_operators == theirs.required_operators
    assert ours.required_keywords == theirs.required_keywords
    assert ours.required_strings == theirs.required_strings
    notes = json.loads(Path(ours.path).read_text())["notes"]  # what changed, not shown to users
    assert theirs.description in notes
    assert ("Changed from the prototype" in notes) == (ours.valid_patterns != theirs.valid_patterns)


def test_load_by_name_with_or_without_prefix() -> None:
    assert validate_task_file(task_path("add_two_numbers")) == load_task("add_two_numbers")
    a = load_task("add_two_numbers")
    b = load_task("benchmark_add_two_numbers")
    assert a == b and a.name == "add_two_numbers"
    assert Path(a.path).name == "benchmark_add_two_numbers.json"
    assert canonical_name("benchmark_x.json") == "x"


def test_unknown_name_lists_known_tasks() -> None:
    with pytest.raises(
        InputError, match="unknown task 'nope' \\(known: .*add_two_numbers, basic_loop"
    ):
        load_task("nope")


def test_literals() -> None:
    cond = load_task("conditional_check").literals()
    assert cond.numbers == (15, 10)
    assert cond.strings == ("Greater", "Less or equal")
    concat = load_task("concatenate_strings").literals()
    assert concat.strings == ("hello", "world")


# ---- the user's folder and extra files ----------------------------------------------------


def test_user_tasks_folder_and_override(tmp_path: Path) -> None:
    folder = Path(os.environ["ALTLAS_HOME"]) / "data" / "tasks" / "mine"
    folder.mkdir(parents=True)
    write(folder, minimal(), "benchmark_my_sum.json")
    write(folder, "{ broken", "broken.json")
    rb = minimal(target_language="ruby")
    write(folder, rb, "rb_thing.json")
    names = [t.name for t in list_tasks()]
    assert "my_sum" in names and "rb_thing" not in names and "broken" not in names
    assert "rb_thing" in [t.name for t in list_tasks(include_unsupported=True)]
    assert load_task("my_sum").required_numbers == (5, 3)
    override = minimal()
    override["success_criteria"]["expected_output"] = "9"
    write(folder, override, "add_two_numbers.json")
    assert load_task("add_two_numbers").expected_output == "9"


def test_extra_paths(tmp_path: Path) -> None:
    p = write(tmp_path, minimal(), "extra_task.json")
    assert "extra_task" in [t.name for t in list_tasks([p])]
    bad = write(tmp_path, "[]", "bad.json")
    with pytest.raises(InputError, match="expected a JSON object"):
        list_tasks([bad])


# ---- errors: one line, file and field ---------------------------------------------------------


def mutate(path: list[str], value: object) -> dict:
    d = minimal()
    target = d
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return d


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ("{not json", None, "invalid JSON"),
        (mutate(["name"], KeyError), "name", "missing field"),
        (mutate(["name"], 3), "name", "expected a string"),
        (mutate(["success_criteria"], KeyError), "success_criteria", "missing field"),
        (
            mutate(["success_criteria", "expected_output"], KeyError),
            "success_criteria.expected_output",
            "missing field",
        ),
        (
            mutate(["success_criteria", "expected_output"], 8),
            "success_criteria.expected_output",
            "expected a string",
        ),
        (
            mutate(["success_criteria", "case_sensitive"], "yes"),
            "success_criteria.case_sensitive",
            "expected true or false",
        ),
        (
            mutate(["success_criteria", "valid_patterns"], [{"type": "x"}]),
            "success_criteria.valid_patterns[0].pattern",
            "missing field",
        ),
        (
            mutate(["success_criteria", "valid_patterns"], [{"pattern": 5}]),
            "success_criteria.valid_patterns[0].pattern",
            "expected a string or a list of lines",
        ),
        (
            mutate(["constraints", "required_numbers"], [5, "3"]),
            "constraints.required_numbers[1]",
            "expected an integer or a number",
        ),
        (
            mutate(["constraints", "required_numbers"], [True]),
            "constraints.required_numbers[0]",
            "expected an integer or a number",
        ),
        (
            mutate(["constraints", "required_operators"], ["plus"]),
            "constraints.required_operators[0]",
            "unknown operator 'plus'",
        ),
        (
            mutate(["constraints", "required_keywords"], ["for loop"]),
            "constraints.required_keywords[0]",
            "unknown keyword",
        ),
        (mutate(["constraints", "max_tokens"], 0), "constraints.max_tokens", "positive integer"),
        (
            mutate(["constraints", "max_tokens"], "20"),
            "constraints.max_tokens",
            "expected an integer",
        ),
        (mutate(["constraints"], []), "constraints", "expected an object"),
    ],
)
def test_structural_errors_name_file_and_field(
    tmp_path: Path, data: object, field: str | None, message: str
) -> None:
    p = write(tmp_path, data)
    with pytest.raises(InputError) as err:
        load_task(p)
    text = str(err.value)
    assert "\n" not in text
    expected_prefix = f"{p}: {field}: " if field else f"{p}: "
    assert text.startswith(expected_prefix), text
    assert message in text
    assert err.value.path == str(p) and err.value.field == field


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_task(tmp_path / "nothing.json")
    with pytest.raises(InputError, match="is a directory"):
        read_task_file(tmp_path)


@pytest.mark.parametrize(
    ("constraints", "patterns", "field", "message"),
    [
        (
            {"required_numbers": [5, 7]},
            ["print(5+3)"],
            "constraints.required_numbers[1]",
            "7 appears in none of the valid patterns",
        ),
        (
            {"required_numbers": [5]},
            ["print(55-47)"],
            "constraints.required_numbers[0]",
            "5 appears in none of the valid patterns",
        ),
        (
            {"required_operators": ["+"]},
            ["print(10-2)  # 5+3", "print('5+3' and 8)"],
            "constraints.required_operators[0]",
            "'+' appears in none of the valid patterns",
        ),
        (
            {"required_keywords": ["for"]},
            ["print(8)  # for"],
            "constraints.required_keywords[0]",
            "'for' appears in none of the valid patterns",
        ),
        (
            {"required_keywords": ["return"]},
            ["def f():\n    return\nprint(8)"],
            "constraints.required_keywords[0]",
            "'return' appears in none of the valid patterns",
        ),
        (
            {"required_strings": ["hello"]},
            ["print('hello world'[0:0] + '8')"],
            "constraints.required_strings[0]",
            "'hello' appears in none of the valid patterns",
        ),
        ({}, ["print(5+"], "success_criteria.valid_patterns[0].pattern", "does not parse"),
        (
            {"required_numbers": [5, 3]},
            ["print(5+3)", "x = 5\ny = 3\nprint(4+4)"],
            "success_criteria.valid_patterns[1].pattern",
            "the scorer does not accept it (number 5 does not count",
        ),
        (
            {"required_keywords": ["if"]},
            ["if 5 > 3:\n    pass\nprint(5+3)"],
            "success_criteria.valid_patterns[0].pattern",
            "the scorer does not accept it (keyword 'if' does not count",
        ),
        (
            {},
            ["print(5+4)"],
            "success_criteria.valid_patterns[0].pattern",
            "prints '9', expected '8'",
        ),
        ({}, ["print(1/0)"], "success_criteria.valid_patterns[0].pattern", "ZeroDivisionError"),
        (
            {"required_numbers": [5]},
            ["print(5+3)", "print(4+4)"],
            "success_criteria.valid_patterns[1].pattern",
            "lacks required number 5",
        ),
    ],
)
def test_strict_consistency_errors(
    tmp_path: Path, constraints: dict, patterns: list[str], field: str, message: str
) -> None:
    d = minimal(constraints=constraints)
    d["success_criteria"]["valid_patterns"] = [{"pattern": p} for p in patterns]
    path = write(tmp_path, d)
    load_task(path)  # structurally fine
    with pytest.raises(InputError) as err:
        validate_task_file(path)
    assert str(err.value).startswith(f"{path}: {field}: "), str(err.value)
    assert message in str(err.value)


def test_strict_validation_stops_runaway_patterns(tmp_path: Path) -> None:
    d = minimal(constraints={})
    d["success_criteria"]["valid_patterns"] = ["while True:\n    pass"]
    with pytest.raises(InputError, match="Timeout"):
        validate_task_file(write(tmp_path, d))


def test_normalise_output_rules() -> None:
    base = load_task("conditional_check")
    assert normalise_output("Less  or\nequal \n", base) == "Less or equal"
    strict = Task(**{**base.__dict__, "whitespace_sensitive": True, "case_sensitive": False})
    assert normalise_output("A  b\n\n", strict) == "a  b"
    assert normalise_output(" A\n", strict) == " a"


def test_vendored_reference_copies_are_unchanged() -> None:
    original = Path("/work/shared/reference-tasks")
    if not original.is_dir():
        pytest.skip("workspace originals not present")
    ours = sorted(p.relative_to(REFERENCE) for p in REFERENCE.rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(original) for p in original.rglob("*") if p.is_file())
    assert ours == theirs
    for rel in ours:
        assert (REFERENCE / rel).read_bytes() == (original / rel).read_bytes(), rel
