"""JavaScript behind `engine.languages.for_task`: shipped tasks, the JS reward, the trainer."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from engine.config import Config, SandboxConfig
from engine.languages import for_task, plugin
from engine.languages.javascript import JSRunner, JSTaskScorer, find_node
from engine.tasks import load_task
from engine.validation import validate_task_file

JS_TASKS = ("js_add_two_numbers", "js_basic_loop", "js_concatenate_strings",
            "js_conditional_check")  # fmt: skip


@pytest.fixture(scope="module")
def runner() -> Iterator[JSRunner]:
    if find_node() is None:
        pytest.skip("node is not installed")
    with JSRunner(SandboxConfig(workers=1)) as js:
        yield js


def test_plugins_by_language() -> None:
    from engine.grammar import Grammar
    from engine.reward import TaskScorer
    from engine.sandbox import Sandbox
    from engine.tokenizer import Tokenizer

    py = load_task("add_two_numbers")
    lang = for_task(py)
    assert (lang.Tokenizer, lang.Grammar, lang.Scorer, lang.Runner) == (
        Tokenizer,
        Grammar,
        TaskScorer,
        Sandbox,
    )  # Python keeps exactly its own classes
    js = load_task("js_add_two_numbers")
    assert for_task(js) is plugin("javascript") and for_task(js).Scorer is JSTaskScorer
    with pytest.raises(KeyError):
        plugin("ruby")


@pytest.mark.parametrize("name", JS_TASKS)
def test_shipped_js_tasks_load_and_validate(runner: JSRunner, name: str) -> None:
    task = load_task(name)
    assert task.target_language == "javascript" and task.notes
    assert validate_task_file(task.path, runner) == task


SCORED = [
    ("console.log(5+3)", True, ""),
    ("let x=5;let y=3;console.log(x+y);", True, ""),
    ("function f(a,b){return a+b;} console.log(f(5,3))", True, ""),
    ("console.log(8)", False, "hard-coded answer"),
    ("console.log(4+4)", False, "missing number 5"),
    ("console.log(3+5-0*5)", False, "number 5 does not count"),  # an inert copy of 5
    ("if (1) {\n  console.log(3 + !5 + 5);\n}", False, "number 5 does not count"),
    ("let y = 5; console.log(3 + 5)", False, "number 5 does not count"),  # y is dead
    ("console.log(5+3", False, "does not parse"),
    ("console.log(5+3); process.exit(0)", False, "failed when run"),
]


@pytest.mark.parametrize(("code", "success", "reason"), SCORED)
def test_js_reward(runner: JSRunner, code: str, success: bool, reason: str) -> None:
    task = load_task("js_add_two_numbers")
    result = JSTaskScorer(task).score_many([code], runner.run_many, [5])[0]
    assert result.success is success, result.reasons
    assert (result.score == 1.0) is success
    if reason:
        assert any(reason in r for r in result.reasons), result.reasons
        assert 0.0 <= result.score < 0.95


def test_derived_cases_need_both_branches_as_in_python(runner: JSRunner) -> None:
    # "all equal" binds 10 > 10: the patterns print 'Less or equal' there (Python's rule too)
    task = load_task("js_conditional_check")
    no_else = "if (15 > 10) {\n  console.log('Greater');\n}"
    both = "if (15 > 10) {\n  console.log('Greater');\n} else {\n  console.log('Less or equal');\n}"
    no, yes = JSTaskScorer(task).score_many([no_else, both], runner.run_many, [9, 15])
    assert yes.success and yes.case_counts == (5, 5, 2, 2)
    assert not no.success and any("'Less or equal'" in r for r in no.reasons), no.reasons


def test_inert_values_of_the_patterns_are_exempt(runner: JSRunner, tmp_path) -> None:
    # the pattern holds 5 in a list it never reads at that place: a program may too
    data = {
        "name": "js_third", "description": "print the third of 1..5", "target_language": "javascript",
        "success_criteria": {"type": "code_pattern", "expected_output": "3",
                             "valid_patterns": ["console.log([1, 2, 3, 4, 5][2]);"]},
        "constraints": {"required_numbers": [5]},
    }  # fmt: skip
    path = tmp_path / "js_third.json"
    path.write_text(json.dumps(data))
    scorer = JSTaskScorer(load_task(str(path)))
    ok = scorer.score_many(["console.log([1, 2, 3, 4, 5][2]);"], runner.run_many, [9])[0]
    assert ok.success, ok.reasons
    assert scorer.expect is not None and scorer.expect.inert_allowed == frozenset({0})


def test_trainer_runs_js_batches(runner: JSRunner) -> None:
    from engine.trainer import Trainer

    config = Config()
    config.train.batch_size = 16
    trainer = Trainer(config, load_task("js_add_two_numbers"), runner.run_many, seed=3)
    assert trainer.tok.tokens[:4] == ["<pad>", "<sos>", "<eos>", "<unk>"]
    assert "console.log" in trainer.tok.tokens
    for _ in range(3):
        trainer.step()
    assert trainer.attempts == 48 and trainer.unique_programs > 0
    trainer.close()


def test_a_js_solution_is_minimised_on_the_js_tree(runner: JSRunner) -> None:
    """The trainer's solve path minimises JS with the JS minimiser (a dead wrapper and dead
    code go; the Python minimiser could not parse this program at all)."""
    from engine.trainer import Trainer

    config = Config()
    config.train.batch_size = 8
    config.search.gp = False
    task = load_task("js_add_two_numbers")
    trainer = Trainer(config, task, runner.run_many, seed=0)
    code = "let y = 7;\ny--;\nconsole.log(Math.max(5 + 3));\n"
    assert JSTaskScorer(task).score_many([code], runner.run_many, None)[0].success
    assert trainer.search.minimise(code) == "console.log(5 + 3);\n"
    trainer.close()
