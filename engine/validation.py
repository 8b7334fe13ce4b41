"""Strict validation of a task file (`tasks validate`): every valid pattern must parse, contain
every constraint, pass every test case (or print the expected output), and be accepted as a
success by the reward; a constraint no pattern contains is reported. Patterns are task-file
content, so they run only in the sandbox (or in a runner the caller passes: tests use a fake).
Every problem is reported, one line each."""

from __future__ import annotations

import ast
import os
from typing import Any

from engine.errors import InputError
from engine.tasks.constraints import (
    keyword_matches,
    missing_constraints,
    number_matches,
    operator_matches,
    string_matches,
)
from engine.tasks.loader import read_task_file, require_supported
from engine.tasks.model import SUPPORTED_LANGUAGES, Task
from engine.tasks.patterns import case_inputs, run_problems, short


def task_problems(task: Task, runner: Any = None) -> list[tuple[str, str]]:
    """Every inconsistency of a (structurally valid) task as (field, message) pairs.

    `runner`: a sandbox-like object or RunCases for the patterns; default a fresh Sandbox."""
    if not task.supported:
        return [("target_language", f"{task.target_language!r} is not supported yet "
                 f"(supported: {', '.join(SUPPORTED_LANGUAGES)})")]  # fmt: skip
    if task.target_language != "python":
        return _plugin_problems(task, runner)
    if runner is None:
        from engine.sandbox import Sandbox

        with Sandbox() as sandbox:
            return task_problems(task, sandbox)
    from engine.reward import TaskScorer, cases_runner

    run_cases = cases_runner(runner)
    problems: list[tuple[str, str]] = []
    if not task.valid_patterns:
        return problems  # the oldest format: nothing to cross-check the constraints against
    fields = task.pattern_fields or tuple(
        f"success_criteria.valid_patterns[{i}]" for i in range(len(task.valid_patterns))
    )
    parsed: list[tuple[str, str, ast.AST]] = []
    for src, fld in zip(task.valid_patterns, fields, strict=True):
        try:
            parsed.append((src, fld, ast.parse(src)))
        except SyntaxError as exc:
            problems.append((fld, f"does not parse: {exc.msg} (line {exc.lineno})"))
    all_nodes = [list(ast.walk(t)) for _, _, t in parsed]
    checks = (
        ("required_operators", task.required_operators, operator_matches),
        ("required_numbers", task.required_numbers, number_matches),
        ("required_strings", task.required_strings, string_matches),
        ("required_keywords", task.required_keywords, keyword_matches),
    )
    for key, values, matches in checks:
        for i, value in enumerate(values):
            if not any(any(matches(value, n) for n in nodes) for nodes in all_nodes):
                problems.append(
                    (f"constraints.{key}[{i}]", f"{value!r} appears in none of the valid patterns")
                )
    cases, _ = case_inputs(task)
    runs = run_cases([src for src, _, _ in parsed], cases) if parsed else []
    found, clean = run_problems(
        task, parsed, runs, lambda _src, tree: missing_constraints(task, tree)
    )
    problems += found
    if clean:
        # A pattern the reward would not call a success would teach the learner the wrong
        # thing: the reward must accept every valid pattern.
        results = TaskScorer(task).score_many([src for src, _ in clean], run_cases)
        for (src, fld), result in zip(clean, results, strict=True):
            if not result.success:
                problems.append((fld, f"the scorer does not accept it "
                                 f"({'; '.join(result.reasons)}): {short(src)}"))  # fmt: skip
    return problems


def _plugin_problems(task: Task, runner: Any) -> list[tuple[str, str]]:
    """A non-Python task's problems, checked by its language plug-in in its own runner."""
    from engine.languages import for_task

    lang = for_task(task)
    if runner is None:
        with lang.Runner() as own:
            return lang.task_problems(task, own)
    return lang.task_problems(task, runner)


def validate_task_file(path: str | os.PathLike[str], runner: Any = None) -> Task:
    """Load a task file strictly: structure, language and consistency. Raises `InputError`
    listing every problem, one per line (the first line names the file and field)."""
    task = require_supported(read_task_file(path))
    problems = task_problems(task, runner)
    if problems:
        lines = [msg.replace("\n", " ") for _, msg in problems[:1]]
        lines += [f"{task.path}: {f}: {m}".replace("\n", " ") for f, m in problems[1:]]
        raise InputError("\n".join(lines), task.path, problems[0][0])
    return task
