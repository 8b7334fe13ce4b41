"""Checks of a task's valid patterns after they ran on its cases, the same for every language
(engine/validation.py for Python, engine/languages/javascript/validation.py for JS)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from engine.tasks.model import Task, normalise_output


def short(src: str, limit: int = 60) -> str:
    """A pattern's source on one line, cut to `limit` characters, for error messages."""
    one = " \\n ".join(line.strip() for line in src.splitlines())
    return one if len(one) <= limit else one[: limit - 3] + "..."


def case_inputs(task: Task) -> tuple[list[dict[str, Any]], list[str]]:
    """The bindings and expected outputs patterns run on: the task's tests, or (legacy format)
    one run against the task's expected output."""
    cases = [t.bindings() for t in task.tests] or [{}]
    expected = [t.expected_output for t in task.tests] or [task.expected_output]
    return cases, expected


def run_problems(
    task: Task,
    parsed: Sequence[tuple[str, str, Any]],
    runs: Sequence[Sequence[Any]],
    missing: Callable[[str, Any], list[str]],
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Problems of patterns (`(source, field, tree)`) given their results per case, and the
    patterns that had none (`(source, field)`): each must meet the constraints (`missing(source,
    tree)` lists what it lacks), run cleanly and print the expected output on every case."""
    _, expected = case_inputs(task)
    problems: list[tuple[str, str]] = []
    clean: list[tuple[str, str]] = []
    for (src, fld, tree), results in zip(parsed, runs, strict=True):
        lacks = missing(src, tree)
        if lacks:
            problems.append((fld, f"lacks required {', '.join(lacks)}: {short(src)}"))
        bad = False
        for j, (res, exp) in enumerate(zip(results, expected, strict=True)):
            where = f" on test case {j}" if task.tests else ""
            if res.status != "ok":
                problems.append((fld, f"fails when run{where} ({res.error}): {short(src)}"))
                bad = True
            elif normalise_output(res.stdout, task) != normalise_output(exp, task):
                problems.append((fld, f"prints {res.stdout.rstrip()!r}{where}, expected "
                                 f"{exp!r}: {short(src)}"))  # fmt: skip
                bad = True
        if not bad and not lacks:
            clean.append((src, fld))
    return problems, clean
