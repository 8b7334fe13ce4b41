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
from engine.tasks import normalise_output

__all__ = ["task_problems"]


def _short(src: str, limit: int = 60) -> str:
    one = " \\n ".join(line.strip() for line in src.splitlines())
    return one if len(one) <= limit else one[: limit - 3] + "..."


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
            problems.append((fld, f"does not parse: {_short(src)}"))
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
    cases = [t.bindings() for t in task.tests] or [{}]
    expected = [t.expected_output for t in task.tests] or [task.expected_output]
    srcs = [src for src, _, _ in parsed]
    runs = runner.run_cases(srcs, cases, timeout=1.0) if srcs else []
    clean: list[tuple[str, str]] = []
    for (src, fld, _), results in zip(parsed, runs, strict=True):
        missing = missing_constraints(task, src)
        if missing:
            problems.append((fld, f"lacks required {', '.join(missing)}: {_short(src)}"))
        bad = False
        for j, (res, exp) in enumerate(zip(results, expected, strict=True)):
            where = f" on test case {j}" if task.tests else ""
            if res.status != "ok":
                problems.append((fld, f"fails when run{where} ({res.error}): {_short(src)}"))
                bad = True
            elif normalise_output(res.stdout, task) != normalise_output(exp, task):
                problems.append((fld, f"prints {res.stdout.rstrip()!r}{where}, expected "
                                 f"{exp!r}: {_short(src)}"))  # fmt: skip
                bad = True
        if not bad and not missing:
            clean.append((src, fld))
    if clean:  # the reward must accept every valid pattern, or it teaches the wrong thing
        from engine.languages.javascript.reward import JSTaskScorer

        scored = JSTaskScorer(task).score_many([src for src, _ in clean], runner)
        for (src, fld), result in zip(clean, scored, strict=True):
            if not result.success:
                problems.append((fld, f"the scorer does not accept it "
                                 f"({'; '.join(result.reasons)}): {_short(src)}"))  # fmt: skip
    return problems
