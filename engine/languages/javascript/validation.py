"""Consistency of a JavaScript task: its valid patterns parse, run and meet its own constraints.

Mirrors `engine.tasks.task_problems` for Python. Patterns come from a task file, so they are run in
the sandbox (`JSRunner`), never in the engine.
"""

from __future__ import annotations

from typing import Any

from engine.languages.javascript.constraints import (
    keyword_matches,
    missing_constraints,
    number_matches,
    operator_matches,
    parse,
    string_matches,
    walk,
)
from engine.tasks.patterns import case_inputs, run_problems, short

__all__ = ["task_problems"]


# Names a JavaScript program cannot bind as a global input: reserved words, and the globals the
# grammar writes (an input `console` would hide the output).
JS_RESERVED = frozenset(
    """
    break case catch class const continue debugger default delete do else enum export extends
    false finally for function if import in instanceof new null return super switch this throw
    true try typeof var void while with yield let static implements interface package private
    protected public await arguments eval undefined NaN Infinity globalThis console Math String
    Number Object Array JSON
""".split()
)


def _input_problems(task: Any) -> list[tuple[str, str]]:
    problems = []
    for i, case in enumerate(getattr(task, "tests", ()) or ()):
        for name in case.inputs:
            if name in JS_RESERVED:
                problems.append((f"success_criteria.tests[{i}].inputs.{name}",
                                 f"{name!r} is reserved or a global in JavaScript; choose "
                                 "another name"))  # fmt: skip
        if problems:
            break  # the same names in every case (the loader checks): report them once
    return problems


def task_problems(task: Any, runner: Any) -> list[tuple[str, str]]:
    """Every inconsistency of a structurally valid JavaScript task as (field, message) pairs."""
    problems_in_inputs = _input_problems(task)
    if problems_in_inputs or not task.valid_patterns:
        return problems_in_inputs
    fields = task.pattern_fields or tuple(
        f"success_criteria.valid_patterns[{i}]" for i in range(len(task.valid_patterns))
    )
    problems: list[tuple[str, str]] = []
    parsed = []
    for src, fld in zip(task.valid_patterns, fields, strict=True):
        tree = parse(src)
        if tree is None:
            problems.append((fld, f"does not parse: {short(src)}"))
        else:
            parsed.append((src, fld, list(walk(tree))))
    checks = (
        ("required_operators", task.required_operators, operator_matches),
        ("required_numbers", task.required_numbers, number_matches),
        ("required_strings", task.required_strings, string_matches),
        ("required_keywords", task.required_keywords, keyword_matches),
    )
    for key, values, matches in checks:
        for i, value in enumerate(values):
            if not any(matches(value, n) for _, _, nodes in parsed for n in nodes):
                problems.append(
                    (f"constraints.{key}[{i}]", f"{value!r} appears in none of the valid patterns")
                )
    # every pattern on every test case (inputs bound as globals), as for Python; the legacy
    # format: once, against the task's expected output
    cases, _ = case_inputs(task)
    srcs = [src for src, _, _ in parsed]
    runs = runner.run_cases(srcs, cases, timeout=1.0) if srcs else []
    found, clean = run_problems(
        task, parsed, runs, lambda src, _tree: missing_constraints(task, src)
    )
    problems += found
    if clean:  # the reward must accept every valid pattern, or it teaches the wrong thing
        from engine.languages.javascript.reward import JSTaskScorer

        scored = JSTaskScorer(task).score_many([src for src, _ in clean], runner)
        for (src, fld), result in zip(clean, scored, strict=True):
            if not result.success:
                problems.append((fld, f"the scorer does not accept it "
                                 f"({'; '.join(result.reasons)}): {short(src)}"))  # fmt: skip
    return problems
