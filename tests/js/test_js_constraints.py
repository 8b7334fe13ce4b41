"""JavaScript AST constraints (same meaning as Python's) and the reference JS task files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine.config import SandboxConfig
from engine.languages.javascript import JSRunner, find_node
from engine.languages.javascript.constraints import missing_constraints
from engine.languages.javascript.tokenizer import Tokenizer
from engine.languages.javascript.validation import task_problems
from engine.tasks import parse_task

DATA = Path(__file__).parent.parent / "data" / "js"
ADD = SimpleNamespace(
    required_operators=("+",), required_numbers=(5, 3), required_strings=(), required_keywords=()
)
LOOP = SimpleNamespace(
    required_operators=("+",),
    required_numbers=(1, 5),
    required_strings=(),
    required_keywords=("for", "let"),
)
CONCAT = SimpleNamespace(
    required_operators=("+",),
    required_numbers=(),
    required_strings=("hello", "world"),
    required_keywords=(),
)
LOOP_SRC = "let s = 0;\nfor (let i = 1; i <= 5; i++) {\n  s += i;\n}\nconsole.log(s);"


@pytest.mark.parametrize(
    ("task", "src", "missing"),
    [
        (ADD, "console.log(5 + 3);", []),
        (ADD, "let x = 5;\nlet y = 3;\nconsole.log(x + y);", []),
        (ADD, "function f(a, b) {\n  return a + b;\n}\nconsole.log(f(5, 3));", []),
        (ADD, "const f = (a, b) => a + b;\nconsole.log(f(5, 3));", []),
        (ADD, "console.log('5 + 3');", ["operator '+'", "number 5", "number 3"]),
        (ADD, "// 5 + 3\nconsole.log(8);", ["operator '+'", "number 5", "number 3"]),
        (ADD, "console.log(55 - 47);", ["operator '+'", "number 5", "number 3"]),
        (ADD, "let x = 5 + 3;\nconsole.log(8);", ["operator '+'", "number 5", "number 3"]),
        (ADD, "function f() {\n  return 5 + 3;\n}\nconsole.log(8);", ["operator '+'", "number 5", "number 3"]),
        (ADD, "function f() {\n  return 5 + 3;\n}\nf();\nconsole.log(8);", ["operator '+'", "number 5", "number 3"]),
        (ADD, "if (false) {\n  console.log(5 + 3);\n}\nconsole.log(8);", ["operator '+'", "number 5", "number 3"]),
        (ADD, "console.log(true || 5 + 3);", ["operator '+'", "number 5", "number 3"]),
        (ADD, "console.log(false ? 5 + 3 : 8);", ["operator '+'", "number 5", "number 3"]),
        (ADD, "console.log(5 +", ["operator '+'", "number 5", "number 3"]),
        (LOOP, LOOP_SRC, []),
        # `i++` is `i += 1`, a real `+` (as Python's AugAssign); printing in the loop is live
        (LOOP, LOOP_SRC.replace("s += i;", "console.log(i);").replace("console.log(s);", ""), []),
        (LOOP, LOOP_SRC.replace("s += i;", "console.log(i);").replace("i++", "i = i - -1"), ["operator '+'"]),
        (LOOP, "let s = 0;\nfor (let i = 1; i <= 5; i++) {\n}\nconsole.log(s + 15);", ["number 1", "number 5", "keyword 'for'"]),
        (LOOP, "let s = 1 + 5;\nwhile (s < 0) {\n  s += 1;\n}\nconsole.log(s);", ["keyword 'for'"]),
        (CONCAT, "console.log('hello' + 'world');", []),
        (CONCAT, "console.log(`hello` + 'world');", []),
        (CONCAT, "console.log('helloworld');", ["operator '+'", "string 'hello'", "string 'world'"]),
        (CONCAT, "console.log('hello world' + '');", ["string 'hello'", "string 'world'"]),
    ],
)  # fmt: skip
def test_missing_constraints(task: SimpleNamespace, src: str, missing: list[str]) -> None:
    assert missing_constraints(task, src) == missing


needs_node = pytest.mark.skipif(find_node() is None, reason="node is not installed")


@pytest.fixture(scope="module")
def runner() -> Iterator[JSRunner]:
    if find_node() is None:
        pytest.skip("node is not installed")
    with JSRunner(SandboxConfig(workers=1)) as js:
        yield js


def _load(path: Path):
    return parse_task(json.loads(path.read_text()), str(path))


REFERENCE_PROBLEMS = {
    "benchmark_js_add_two_numbers.json": 0,
    "benchmark_js_conditional_check.json": 0,
    # `var` variation lacks `let`; while-loop and reduce() patterns lack `for` (and `let`)
    "benchmark_js_basic_loop.json": 5,
    # template-literal and join() patterns have no `+`
    "benchmark_js_concatenate_strings.json": 7,
}


@pytest.mark.parametrize("name", sorted(REFERENCE_PROBLEMS))
def test_reference_tasks_load_and_their_inconsistencies_are_found(
    runner: JSRunner, name: str
) -> None:
    task = _load(DATA / "reference_tasks" / name)
    assert task.target_language == "javascript"
    problems = task_problems(task, runner)
    assert len(problems) == REFERENCE_PROBLEMS[name], problems
    assert all("lacks required" in msg for _, msg in problems)


@pytest.mark.parametrize("name", sorted(REFERENCE_PROBLEMS))
def test_fixed_copies_validate(runner: JSRunner, name: str) -> None:
    task = _load(DATA / "tasks" / name)
    assert task_problems(task, runner) == []
    tok = Tokenizer.for_task(task)
    for src in task.valid_patterns:
        assert tok.unk not in tok.encode(src), src


def test_a_pattern_printing_the_wrong_thing_is_reported(runner: JSRunner) -> None:
    data = json.loads((DATA / "tasks" / "benchmark_js_add_two_numbers.json").read_text())
    data["success_criteria"]["valid_patterns"][0]["pattern"] = "console.log(5 + 3 + 1)"
    task = parse_task(data, "x.json")
    problems = task_problems(task, runner)
    assert any("prints '9', expected '8'" in msg for _, msg in problems), problems
