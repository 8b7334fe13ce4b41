"""What a task expects on each case: the cases kept, one or more output profiles, and which
required values the task's own patterns leave inert. Built once per task (one sandbox call)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from engine.reward.cases import (
    RequiredValue,
    ScoreCase,
    build_cases,
    occurrence_variants,
    required_values,
    rewrite,
    task_profile,
)
from engine.reward.execute import ExecLike, RunCases
from engine.tasks import Task, normalise_output

Profile = tuple[str | None, ...]  # expected normalised output per case; None: no opinion


@dataclass
class _Pattern:
    source: str  # rewritten (values read from the case's globals)
    contains: frozenset[int]  # required values it contains
    variants: list[tuple[int, list[str]]]  # (value index, sources with one occurrence perturbed)


@dataclass
class Expectations:
    """Cases, profiles and pattern facts of one task."""

    cases: list[ScoreCase]
    profiles: list[Profile]
    values: list[RequiredValue]
    inert_allowed: frozenset[int] = field(default_factory=frozenset)  # value indices

    @cached_property
    def visible(self) -> list[int]:
        """Indices of the visible cases (computed once: the cases never change)."""
        return [i for i, c in enumerate(self.cases) if not c.hidden]

    @cached_property
    def bindings(self) -> list[dict]:
        return [c.bindings for c in self.cases]


def _pattern(src: str, values: list[RequiredValue]) -> _Pattern | None:
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError, RecursionError):
        return None
    occ = rewrite(tree, values)
    contains = frozenset(i for i, *_ in occ)
    source = ast.unparse(tree)
    pairs = zip([i for i, *_ in occ], occurrence_variants(tree, occ), strict=True)
    return _Pattern(source, contains, list(pairs))


def _out(r: ExecLike, task: Task) -> str | None:
    if r.status != "ok":
        return None
    text = normalise_output(r.stdout or "", task)
    return text or None


def build_expectations(
    task: Task,
    run_cases: RunCases,
    pattern: Callable[[str, list[RequiredValue]], Any] | None = None,
) -> Expectations:
    """Derive (legacy) or read (tests) the cases, run the patterns once on them, keep the
    profiles and the cases someone has an opinion on. `pattern` reads a valid pattern in the
    task's language (default: Python's `_pattern`; JavaScript: `javascript.cases.js_pattern`):
    an object with `_Pattern`'s fields, or None when it does not parse."""
    values = required_values(task)
    cases = build_cases(task, values)
    read = pattern or _pattern
    patterns = [p for p in (read(s, values) for s in task.valid_patterns) if p is not None]
    sources = [p.source for p in patterns] + [
        v for p in patterns for _, vs in p.variants for v in vs
    ]
    results = run_cases(sources, [c.bindings for c in cases]) if sources else []
    base = results[: len(patterns)]
    expected0 = normalise_output(task.expected_output, task)

    profiles: list[Profile] = []
    valid: list[int] = []  # patterns that print the task's output as written
    if task.tests:
        profiles.append(task_profile(task, cases))
        valid = [
            k
            for k, rs in enumerate(base)
            if all(_out(r, task) == e for r, e in zip(rs, profiles[0], strict=True))
        ]
    else:
        for k, (p, rs) in enumerate(zip(patterns, base, strict=True)):
            if _out(rs[0], task) != expected0:
                continue
            valid.append(k)
            profile = tuple(
                _out(r, task) if c.changed <= p.contains else None
                for r, c in zip(rs, cases, strict=True)
            )
            if profile not in profiles:
                profiles.append(profile)
        if not profiles:
            profiles.append(task_profile(task, cases))
    keep = [j for j in range(len(cases)) if any(p[j] is not None for p in profiles)]
    if not any(not cases[j].hidden for j in keep):
        keep = [0] + [j for j in keep if j != 0]
    cases = [cases[j] for j in keep]
    profiles = [tuple(p[j] for j in keep) for p in profiles]

    # A value some valid pattern holds without reading it (list_operations' 1 in
    # [1, 2, 3, 4, 5]) may be inert in a program too; otherwise every copy must matter.
    inert: set[int] = set()
    offset = len(patterns)
    visible = [old for old, c in zip(keep, cases, strict=True) if not c.hidden]
    for k, p in enumerate(patterns):
        for index, vs in p.variants:
            outs = results[offset : offset + len(vs)]
            offset += len(vs)
            if k in valid and all(
                _out(rs[j], task) == _out(base[k][j], task)
                for rs in outs
                for j in visible
                if base[k][j].status == "ok"
            ):
                inert.add(index)
    return Expectations(cases, profiles, values, frozenset(inert))
